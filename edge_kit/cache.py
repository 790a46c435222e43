"""Content-hashed artifact cache: a conversion with identical inputs, options and tool versions is
done once. Each entry is a directory named by its key, created under a temporary name and renamed
into place when complete, so an interrupted conversion never leaves an entry that looks valid.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from edge_kit.errors import OutputDirError


def cache_root() -> Path:
    root = os.environ.get("EDGEKIT_CACHE") or Path.home() / ".cache" / "edgekit"
    return Path(root) / "artifacts"


@lru_cache(maxsize=1)
def conversion_code_hash() -> str:
    """What the conversion code is: a fix in a converter, a compat pass or a parity rule must not be
    answered from a cache filled by the old code."""
    # Found through the imported packages, not the source tree: a wheel installs converters/ as
    # edge_kit.converters.
    from converters import isolate

    pkg = Path(__file__).resolve().parent
    files = sorted(Path(isolate.__file__).resolve().parent.glob("*.py")) + sorted((pkg / "postprocess").glob("*.py"))
    files += [pkg / n for n in ("parity.py", "graphs.py", "convert.py", "pipeline.py", "infer.py", "sessions.py", "sources.py")]
    h = hashlib.sha256()
    for f in files:
        if f.exists():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def entry_key(**parts) -> str:
    parts["code"] = conversion_code_hash()
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def entry_dir(kind: str, key: str) -> Path:
    return cache_root() / kind / key


def disk_error(exc: OSError, where: Path) -> OutputDirError:
    if exc.errno == errno.ENOSPC:
        return OutputDirError(f"no space left on device while writing {where}; nothing half-written was kept")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputDirError(f"cannot write {where}: {exc.strerror}")
    return OutputDirError(f"cannot write {where}: {exc}")


@contextmanager
def building(kind: str, key: str):
    """Yield a scratch directory; on success it becomes the entry for `key`, on failure it is removed."""
    final = entry_dir(kind, key)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
    except OSError as exc:
        raise disk_error(exc, final.parent) from None
    try:
        yield scratch
        if final.exists():  # another process finished the same entry first: keep theirs
            shutil.rmtree(scratch)
        else:
            os.replace(scratch, final)
    except OSError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise disk_error(exc, final) from None
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def publish(src: Path, dest: Path) -> None:
    """Place a cached file in the user's output directory (hard link when possible: instant, no space)."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise disk_error(exc, dest) from None
