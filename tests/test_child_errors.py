"""A tool child's failure names its real cause.

MobileNetV3_large_ssld's int8 timing once failed with "reference run failed in Paddle Inference:
ImportError: your python interpreter from there.": the machine's task table was full (32518 threads and
processes of pid_max 32768, other jobs'), numpy's OpenBLAS could not start its thread at import, and numpy
reported that as an import from its source tree. The test makes the kernel refuse a real child its threads
the same way and checks that the error says so.
"""
from __future__ import annotations

import os
import resource

import pytest

from converters.errors import ConversionError
from converters.isolate import run_isolated
from converters.paddle_ptq import child_ptq  # its module imports numpy first thing, as the reference child did

# glibc gives a new thread a stack as large as RLIMIT_STACK (read when the process starts): a child started with
# a limit larger than the address space cannot map one, so pthread_create fails with EAGAIN, as on a full task table.
HUGE_STACK = 1 << 48


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts no thread on one core")
def test_a_child_refused_its_threads_says_so_not_numpy_s_import_error():
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if hard != resource.RLIM_INFINITY and hard < HUGE_STACK:
        pytest.skip("cannot raise RLIMIT_STACK here")
    resource.setrlimit(resource.RLIMIT_STACK, (HUGE_STACK, hard))  # this process's threads keep their size
    try:
        with pytest.raises(ConversionError) as err:
            run_isolated(child_ptq, {}, model="m", stage="reference run", tool="Paddle Inference",
                         env={"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}, timeout=120)
    finally:
        resource.setrlimit(resource.RLIMIT_STACK, (soft, hard))
    msg = str(err.value)
    assert "refused a new thread or process (OpenBLAS blas_thread_init: pthread_create failed" in msg, msg
    assert "pid_max" in msg and "run it again" in msg, msg
    # what the tool raised next is kept after it (numpy's import error, or, when the import got through, whatever
    # failed next: OpenBLAS raises SIGINT on the refused thread, and where that lands varies)
    assert "(then: " in msg, msg


def test_summary_keeps_the_start_of_an_exception_chain():
    from converters._child import _summary

    try:
        try:
            raise OSError("libfoo.so: cannot open shared object file")
        except OSError as first:
            raise ImportError("long advice\nrelaunch your python interpreter from there.") from first
    except ImportError as exc:
        assert _summary(exc) == ("ImportError: relaunch your python interpreter from there. "
                                 "(from OSError: libfoo.so: cannot open shared object file)")
    assert _summary(RuntimeError("page one\nthe actual problem")) == "RuntimeError: the actual problem"
