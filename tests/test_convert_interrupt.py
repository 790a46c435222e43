"""Ctrl-C during a conversion whose tools run in fork servers (converters.isolate.ForkServer): edgekit stops
with its interrupted line, no server or forked tool outlives it, and the next run reuses the finished stages."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _group_alive(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [ln.strip() for ln in out.splitlines() if ln.strip()]


@pytest.mark.slow
def test_ctrl_c_mid_tflite_leaves_no_tool_running_and_a_rerun_resumes(tmp_path):
    env = {**os.environ, "EDGEKIT_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    # a zoo model, not the tiny test net: its TFLite stage (about 10 s) outlasts the signal's way in
    cmd = [sys.executable, "-m", "edge_kit.cli", "convert", "MobileNetV3_small_ssld", "-o", str(tmp_path / "out")]
    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        # its own process group, as a terminal's foreground job: Ctrl-C reaches edgekit, its servers and tools
        proc = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while "tflite: onnx2tf" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # into the conversion proper (the forked onnx2tf process runs)
        assert proc.poll() is None, log.read_text()  # still converting
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=60)
    printed = log.read_text()
    assert "tflite: done" not in printed, printed  # the signal came mid-stage, as meant
    assert code == 130 and "edgekit: interrupted; results already written are kept" in printed, printed
    for _ in range(50):  # servers and forked tools end with edgekit (SIGINT, EOF, the parent-death signal)
        if not _group_alive(proc.pid):
            break
        time.sleep(0.2)
    assert _group_alive(proc.pid) == []
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    # the reference, both .nb files and the ONNX were finished before the interrupt: reused, not rebuilt
    assert "4 stage(s) from the cache" in again.stdout, again.stdout
