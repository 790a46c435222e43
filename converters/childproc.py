"""Child processes that do not outlive edgekit.

A tool child (Opt, paddle2onnx, onnx2tf, a simulator stand-in) kept running for tens of seconds after
`kill -9` of edgekit, writing into a scratch dir nobody would clean. On Linux the child asks the kernel
(prctl PR_SET_PDEATHSIG) to be killed when its parent dies; elsewhere this is a no-op.
"""
from __future__ import annotations

import os
import signal
import sys

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
