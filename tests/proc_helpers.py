"""Waiting on processes in kill -9 tests (test_faults_devsim_kill, test_faults_convert_kill)."""
from __future__ import annotations

import time

import psutil


def wait_for(cond, timeout: float) -> bool:
    """Poll `cond` until it is true or `timeout` seconds have passed; its last answer."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def alive(p: psutil.Process) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
