"""Issue 12: `kill -9` of `edgekit convert` left its tool child running ~40 s and scratch dirs behind
forever. Driven for real: the CLI in a subprocess, killed while its paddle2onnx child works."""
from __future__ import annotations

import os
import subprocess
import sys

import psutil

from conftest import ROOT, run_cli
from proc_helpers import alive, wait_for


def _child_dirs(tmp, pid: int) -> list:
    """converters.isolate's request/result dirs of edgekit process `pid`."""
    return list(tmp.glob(f"edgekit-child-{pid}-*"))


def _scratch_dirs(cache, pid: int) -> list:
    """edge_kit.conversion.cache's half-written entries of edgekit process `pid`."""
    return list(cache.rglob(f"*.pid{pid}.*"))


def test_kill_9_of_convert_ends_its_tool_child_and_the_next_run_removes_its_scratch(tiny_paddle_model, tmp_path):
    tmp, cache = tmp_path / "tmp", tmp_path / "cache"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp), "EDGEKIT_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    args = ["convert", "--paddle-model", str(tiny_paddle_model), "--to", "onnx"]
    proc = subprocess.Popen([sys.executable, "-m", "edge_kit.cli", *args, "-o", str(tmp_path / "a")], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
    try:
        parent = psutil.Process(proc.pid)

        def tool_children():
            try:
                return [c for c in parent.children(recursive=True) if "converters._child" in " ".join(c.cmdline())]
            except psutil.Error:
                return []

        assert wait_for(tool_children, 180), "no tool child appeared"
        children = parent.children(recursive=True)
        assert _child_dirs(tmp, proc.pid)   # the child's request dir exists while it works
        proc.kill()
        proc.wait(timeout=10)
        assert wait_for(lambda: not any(alive(c) for c in children), 5), \
            [c.cmdline() for c in children if alive(c)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # a killed process cannot clean up after itself...
    assert _child_dirs(tmp, proc.pid) and _scratch_dirs(cache, proc.pid)
    r = run_cli(*args, "-o", str(tmp_path / "b"), env=env)
    assert r.returncode == 0, r.stderr
    # ...the next run removes what it left
    assert _child_dirs(tmp, proc.pid) == [] and _scratch_dirs(cache, proc.pid) == []
