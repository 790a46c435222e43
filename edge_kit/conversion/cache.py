"""Content-hashed artifact cache: a conversion with identical inputs, options and tool versions is
done once. Each entry is a directory named by its key, created under a temporary name and renamed
into place when complete, so an interrupted conversion never leaves an entry that looks valid.

Each entry is sealed with the sha256 of every file in it (SEAL) and checked against it whenever it is
reused: a file edited or truncated in the cache is noticed, the entry rebuilt, and its bytes never
reach an output directory. Files placed in an output directory are copies, never hard links into the
cache, so editing an output cannot reach back into the cache either.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from edge_kit.childproc import pid_alive
from edge_kit.errors import OutputDirError

SEAL = ".sha256.json"  # {relative file name: sha256} of an entry, written before it is renamed into place
STALE_SCRATCH_SECS = 6 * 3600  # a scratch dir this old, or whose builder is gone, is a crash's leftover


def cache_root() -> Path:
    root = os.environ.get("EDGEKIT_CACHE") or Path.home() / ".cache" / "edgekit"
    return Path(root) / "artifacts"


def entry_key(**parts) -> str:
    """The key of a cache entry: its stage's inputs, options and tool versions, and the conversion code
    (edge_kit.conversion.fingerprint)."""
    from edge_kit.conversion.fingerprint import conversion_fingerprint

    parts["code"] = conversion_fingerprint()
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def entry_dir(kind: str, key: str) -> Path:
    return cache_root() / kind / key


def disk_error(exc: OSError, where: Path) -> OutputDirError:
    if exc.errno == errno.ENOSPC:
        return OutputDirError(f"no space left on device while writing {where}; nothing half-written was kept")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputDirError(f"cannot write {where}: {exc.strerror}")
    return OutputDirError(f"cannot write {where}: {exc}")


def _sha256(path: Path) -> str:
    from edge_kit.manifest import sha256_file

    return sha256_file(path)


def _sealed_files(folder: Path) -> list[Path]:
    # manifests are excluded: an .nb's manifest is updated after its entry is made (the x86 twin's
    # verdict); they are checked through the sha256 they record for their artifact instead
    return sorted(f for f in folder.iterdir() if f.is_file() and f.name != SEAL and not f.name.endswith(".manifest.json"))


def seal(folder: Path) -> None:
    sums = {f.name: _sha256(f) for f in _sealed_files(folder)}
    (folder / SEAL).write_text(json.dumps(sums, indent=1, sort_keys=True) + "\n")


def damage(folder: Path, expect: tuple[str, ...] = ()) -> str | None:
    """Why a cache entry cannot be trusted (missing, edited or truncated files), or None if it is intact."""
    try:
        sums = json.loads((folder / SEAL).read_text())
    except (OSError, ValueError):
        return "it has no readable checksum list"
    for name in expect:
        if name not in sums:
            return f"{name} is missing"
    for name, digest in sums.items():
        f = folder / name
        if not f.is_file():
            return f"{name} is missing"
        if _sha256(f) != digest:
            return f"{name} ({f.stat().st_size} bytes) no longer matches its sha256"
    for m in folder.glob("*.manifest.json"):
        try:
            recorded = json.loads(m.read_text()).get("sha256")
        except (OSError, ValueError):
            return f"{m.name} is not valid JSON"
        art = folder / m.name[: -len(".manifest.json")]
        if recorded and art.is_file() and sums.get(art.name) != recorded:
            return f"{m.name} records a different sha256 than {art.name}"
    return None


def reusable(kind: str, key: str, expect: tuple[str, ...], log=None) -> bool:
    """True if the entry exists and is intact. A damaged entry is removed (with a one-line notice) so
    the caller rebuilds it."""
    final = entry_dir(kind, key)
    if not final.is_dir():
        return False
    why = damage(final, expect)
    if why is None:
        return True
    if log is not None:
        log(f"edgekit: cache entry {kind}/{key} is damaged ({why}); rebuilding it")
    shutil.rmtree(final, ignore_errors=True)
    return False


def clean_stale_scratch(folder: Path, now: float | None = None) -> list[Path]:
    """Remove scratch dirs left by a killed conversion: their builder's pid is gone, or they are older
    than STALE_SCRATCH_SECS (a pid may have been reused)."""
    now = time.time() if now is None else now
    removed = []
    for d in folder.glob(".*.*.*"):
        parts = d.name.split(".")
        if not d.is_dir() or len(parts) < 4 or not parts[2].startswith("pid"):
            continue
        try:
            pid = int(parts[2][3:])
            age = now - d.stat().st_mtime
        except (ValueError, OSError):
            continue
        if pid != os.getpid() and (not pid_alive(pid) or age > STALE_SCRATCH_SECS):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


@contextmanager
def building(kind: str, key: str):
    """Yield a scratch directory; on success it is sealed and becomes the entry for `key`, on failure
    it is removed."""
    final = entry_dir(kind, key)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_scratch(final.parent)
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}.pid{os.getpid()}.", dir=final.parent))
    except OSError as exc:
        raise disk_error(exc, final.parent) from None
    try:
        yield scratch
        seal(scratch)
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
    """Place a cached file in the user's output directory: a copy (a hard link would let an edit of the
    output change the cache entry), readable by others like any file the user writes (0644 at umask 022)."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            tmp.unlink()
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, dest)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise disk_error(exc, dest) from None


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
