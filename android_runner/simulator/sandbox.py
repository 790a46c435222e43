"""The simulator's sandbox directory, removed however the simulator ends.

stop() removes it, and `device-sim` turns SIGTERM into stop(); but `kill -9` (or an OOM kill, or a
crash in a runtime) ends the process with no code run, and the pushed models stayed in /tmp. So:

* every sandbox gets a reaper: a tiny child holding the read end of a pipe whose write end only the
  simulator holds. When the simulator dies by any means the kernel closes that end, the reaper reads EOF
  and removes the directory. It runs in its own session, so a Ctrl-C aimed at the terminal's process
  group does not kill it before it has done its job;
* the directory's name carries the owner's pid (edgekit-devsim-PID-xxxx), and creating a sandbox first
  sweeps those whose owner is gone (a reaper that was itself killed, a machine that lost power).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PREFIX = "edgekit-devsim-"
_OWNED = re.compile(re.escape(PREFIX) + r"(\d+)-")

# Blocks until EOF on the inherited fd (the simulator is gone, or closed it in stop()), then removes the
# root; retried briefly because a stand-in killed with the simulator may still be closing a file in it.
_REAPER = """
import os, shutil, sys, time
fd, root = int(sys.argv[1]), sys.argv[2]
try:
    while os.read(fd, 4096):
        pass
except OSError:
    pass
for _ in range(20):
    shutil.rmtree(root, ignore_errors=True)
    if not os.path.lexists(root):
        break
    time.sleep(0.1)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    return True


def sweep_stale(tmpdir: str | None = None) -> list[Path]:
    """Remove sandboxes whose owner process no longer exists; returns what was removed."""
    removed = []
    base = Path(tmpdir or tempfile.gettempdir())
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for d in entries:
        m = _OWNED.match(d.name)
        if not m or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        try:
            if d.is_dir() and not d.is_symlink() and d.stat().st_uid == os.getuid():
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
        except OSError:
            continue
    return removed


class Sandbox:
    """A fresh private directory plus the reaper that removes it when this process dies."""

    def __init__(self):
        sweep_stale()
        self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")).resolve()
        self._lifeline: int | None = None
        self.reaper: subprocess.Popen | None = None
        read_end, write_end = os.pipe()   # both non-inheritable: no other child keeps the write end open
        try:
            self.reaper = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _REAPER, str(read_end), str(self.root)],
                pass_fds=(read_end,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
            self._lifeline = write_end
        except OSError:
            os.close(write_end)   # no reaper (no fork allowed?): stop() and the sweep still clean up
        finally:
            os.close(read_end)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lifeline is not None:
            os.close(self._lifeline)   # the reaper sees EOF, finds nothing left and exits
            self._lifeline = None
        if self.reaper is not None:
            try:
                self.reaper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.reaper.kill()
                self.reaper.wait()
            self.reaper = None
