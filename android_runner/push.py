"""Push each file once per content hash: /data/local/tmp/edgekit/<sha256[:16]>/<safe name>.

The directory is the content hash, so a file already on the phone with the expected size is the same
file (a truncated earlier push has the wrong size and is pushed again); re-running a sweep moves no
bytes. The file name is reduced to [A-Za-z0-9._-]: quoting already makes odd names harmless, this
just keeps device paths readable in logs.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from android_runner.transport import RemoteCommandError
from edge_kit.manifest import sha256_file

REMOTE_ROOT = "/data/local/tmp/edgekit"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    s = _UNSAFE.sub("_", name).lstrip(".-") or "file"
    return s[-120:]   # keep the end: it holds the extension the tools look at


def remote_path(sha256: str, name: str) -> str:
    return f"{REMOTE_ROOT}/{sha256[:16]}/{safe_name(name)}"


@dataclass
class Pushed:
    local: Path
    remote: str
    sha256: str
    size: int
    transferred: bool   # False: already on the device


class Pusher:
    def __init__(self, transport):
        self.t = transport
        self._hash_cache: dict[tuple[str, int, int], str] = {}   # (path, size, mtime_ns) -> sha256

    def _sha(self, p: Path) -> str:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
        if key not in self._hash_cache:
            self._hash_cache[key] = sha256_file(p)
        return self._hash_cache[key]

    def push(self, local: os.PathLike, executable: bool = False) -> Pushed:
        local = Path(local)
        if not local.is_file():
            raise RemoteCommandError(f"cannot push {local}: no such file")
        size = local.stat().st_size
        sha = self._sha(local)
        remote = remote_path(sha, local.name)
        mode, have, _ = self.t.stat(remote)
        if mode and have == size:
            return Pushed(local, remote, sha, size, transferred=False)
        # adbd's sync SEND creates missing parents itself; mkdir first anyway so a device (or the
        # simulator) that does not still gets the hash directory.
        self.t.check(["mkdir", "-p", remote.rsplit("/", 1)[0]])
        self.t.push(local, remote, mode=0o755 if executable else 0o644)
        mode, have, _ = self.t.stat(remote)
        if have != size:
            raise RemoteCommandError(f"push of {local.name} to {remote} left {have} of {size} bytes on the device "
                                     f"(disk full?)")
        return Pushed(local, remote, sha, size, transferred=True)
