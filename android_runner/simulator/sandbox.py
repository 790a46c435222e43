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
import shutil
import subprocess
import sys
from pathlib import Path

from edge_kit.childproc import owned_tempdir, sweep_dead_owners

PREFIX = "edgekit-devsim-"

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


def sweep_stale(tmpdir: str | None = None) -> list[Path]:
    """Remove sandboxes whose owner process no longer exists; returns what was removed."""
    return sweep_dead_owners(PREFIX, tmpdir)


class Sandbox:
    """A fresh private directory plus the reaper that removes it when this process dies."""

    def __init__(self):
        self.root = owned_tempdir(PREFIX)   # sweeps the sandboxes of dead simulators first
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
