"""Child processes and scratch dirs that do not outlive edgekit.

A tool child (Opt, paddle2onnx, onnx2tf, a simulator stand-in) kept running for tens of seconds after
`kill -9` of edgekit, writing into a scratch dir nobody would clean. On Linux the child asks the kernel
(prctl PR_SET_PDEATHSIG) to be killed when its parent dies; elsewhere this is a no-op.

A process killed with SIGKILL cannot remove its temp dirs, so they are named for their owner
(PREFIX + pid + "-"), and the next one made with the same prefix first removes those whose owner is gone.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """A `preexec_fn` for subprocess: SIGKILL this child when the process that started it dies."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def describe_exit(code: int) -> str:
    """A child's exit status in words: a signal (negative code, as subprocess reports it) or a status."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = {"SIGSEGV": "segmentation fault", "SIGABRT": "aborted", "SIGKILL": "killed (out of memory?)"}
        return f"crashed: {what.get(name, name)}"
    return f"exited with status {code}"


# What a child prints when the kernel refuses it a thread or a process (EAGAIN): OpenBLAS (numpy's, at import),
# Python's threading, a shell. The error the tool raises next rarely says so: numpy's import, its OpenBLAS
# thread refused, fails with "relaunch your python interpreter from there."
_NO_TASK = ("pthread_create failed", "can't start new thread", "fork: retry", "Cannot fork")


def refused_task(output: str) -> str | None:
    """The line of a child's output saying it could not start a thread or process, if there is one."""
    def refused(line: str) -> bool:
        low = line.lower()
        return any(s.lower() in low for s in _NO_TASK) or (
            "resource temporarily unavailable" in low and any(w in low for w in ("thread", "fork", "clone")))

    return next((ln.strip()[:200] for ln in output.splitlines() if refused(ln)), None)


def task_table() -> str:
    """How full the kernel's task table is now ("32518 threads and processes of pid_max 32768"), or ""."""
    try:
        total = Path("/proc/loadavg").read_text().split()[3].split("/")[1]
        return f"{total} threads and processes of pid_max {Path('/proc/sys/kernel/pid_max').read_text().strip()}"
    except (OSError, IndexError):
        return ""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's live process
        return True
    return True


def sweep_dead_owners(prefix: str, tmpdir: str | None = None) -> list[Path]:
    """Remove this user's dirs named PREFIX<pid>-* in tmpdir whose owner process no longer exists."""
    owned = re.compile(re.escape(prefix) + r"(\d+)-")
    base = Path(tmpdir or tempfile.gettempdir())
    removed = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for d in entries:
        m = owned.match(d.name)
        if not m or int(m.group(1)) == os.getpid() or pid_alive(int(m.group(1))):
            continue
        try:
            if d.is_dir() and not d.is_symlink() and d.stat().st_uid == os.getuid():
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
        except OSError:
            continue
    return removed


def owned_tempdir(prefix: str) -> Path:
    """A new temp dir PREFIX<our pid>-xxxx, after removing those a killed owner left behind."""
    sweep_dead_owners(prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")).resolve()
