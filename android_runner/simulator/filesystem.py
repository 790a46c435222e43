"""The simulated device's files, kept in a private host temp dir and confined to it.

Device paths are normalised as a chroot would (`/..` is `/`), so `..` can never climb out; symlinks are
never created, and every resolved host path is re-checked to lie under the root in case one appears.
Only /data/local/tmp and /sdcard are writable; /sys and /proc are generated from the profile.
"""
from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path

from android_runner.simulator.sandbox import Sandbox

WRITABLE = ("/data/local/tmp", "/sdcard")
SKELETON = ("/data/local/tmp", "/sdcard", "/system/bin", "/vendor", "/sys", "/proc", "/dev")


class FsError(Exception):
    """A device-side failure; str() is the errno text a device shell would print (e.g. 'No such file or directory')."""


def normalize(path: str, cwd: str = "/") -> str:
    """Device path -> absolute, normalised device path; `..` stops at `/`."""
    if not path.startswith("/"):
        path = posixpath.join(cwd, path)
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


class DeviceFS:
    def __init__(self, static_files: dict[str, str], dynamic=None, root: Path | None = None):
        # an own root is a Sandbox: removed by cleanup(), or by its reaper if this process is killed
        self._sandbox = Sandbox() if root is None else None
        self.root = self._sandbox.root if self._sandbox else Path(root).resolve()
        self._dynamic = dynamic          # callable -> {device path: content}, refreshed before reads
        for d in SKELETON:
            self.host(d).mkdir(parents=True, exist_ok=True)
        (self.root / "dev" / "null").touch()
        for path, text in static_files.items():
            self._write_generated(path, text)
        self.refresh()

    def _write_generated(self, path: str, text: str) -> None:
        host = self.host(path)
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_text(text)

    def refresh(self) -> None:
        """Regenerate the dynamic sysfs files (temperatures, current frequencies)."""
        if self._dynamic:
            for path, text in self._dynamic().items():
                self._write_generated(path, text)

    def host(self, device_path: str, cwd: str = "/") -> Path:
        """Device path -> host path under the root. Raises FsError if it would escape (it cannot by construction)."""
        norm = normalize(device_path, cwd)
        host = self.root.joinpath(norm.lstrip("/"))
        # A symlink planted on the host could still point outside: check the fully resolved path too.
        real = Path(os.path.realpath(host))
        if real != self.root and self.root not in real.parents:
            raise FsError("Permission denied")
        return host

    @staticmethod
    def writable(device_path: str, cwd: str = "/") -> bool:
        norm = normalize(device_path, cwd)
        return any(norm == w or norm.startswith(w + "/") for w in WRITABLE)

    def check_writable(self, device_path: str, cwd: str = "/") -> Path:
        norm = normalize(device_path, cwd)
        if norm.startswith(("/sys/", "/proc/", "/system/")) or norm in ("/sys", "/proc", "/system"):
            raise FsError("Read-only file system")
        if norm == "/dev/null":
            return self.host(norm)
        if not self.writable(norm):
            raise FsError("Permission denied")
        return self.host(norm)

    def write_file(self, device_path: str, data: bytes, mode: int = 0o644, append: bool = False) -> None:
        host = self.check_writable(device_path)
        if normalize(device_path) == "/dev/null":
            return
        if not host.parent.is_dir():
            raise FsError("No such file or directory")
        if host.is_dir():
            raise FsError("Is a directory")
        with open(host, "ab" if append else "wb") as f:
            f.write(data)
        os.chmod(host, mode & 0o777)

    def remove(self, device_path: str, recursive: bool = False) -> None:
        host = self.check_writable(device_path)
        if not os.path.lexists(host):
            raise FsError("No such file or directory")
        if host.is_dir() and not host.is_symlink():
            if not recursive:
                raise FsError("Is a directory")
            shutil.rmtree(host)
        else:
            host.unlink()

    def cleanup(self) -> None:
        if self._sandbox:
            self._sandbox.remove()
