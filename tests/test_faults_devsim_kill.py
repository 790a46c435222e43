"""Issue 12: `kill -9` of `edgekit device-sim` left its sandbox (with the pushed models) in /tmp, and its
stand-in process running. Driven for real: the CLI in a subprocess, files pushed and a stand-in started
over the ADB protocol by the adb_shell client edgekit uses, then SIGKILL."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import psutil
from adb_shell.adb_device import AdbDeviceTcp
from adb_shell.auth.keygen import keygen
from adb_shell.auth.sign_pythonrsa import PythonRSASigner

from android_runner.simulator.sandbox import PREFIX, sweep_stale
from conftest import ROOT, make_tiny_tflite
from proc_helpers import alive, wait_for

FAKE_ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 57   # enough of an arm64 ELF header for the stand-in check


def test_kill_9_of_device_sim_removes_its_sandbox_and_leaves_no_child(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    keygen(str(tmp_path / "adbkey"))
    signer = PythonRSASigner((tmp_path / "adbkey.pub").read_text(), (tmp_path / "adbkey").read_text())
    sim = subprocess.Popen([sys.executable, "-m", "edge_kit.cli", "device-sim", "--port", "0"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           env={**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)})
    try:
        line = sim.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        (sandbox,) = tmp.glob(PREFIX + "*")

        dev = AdbDeviceTcp("127.0.0.1", port, default_transport_timeout_s=30)
        assert dev.connect(rsa_keys=[signer], auth_timeout_s=5, read_timeout_s=30)
        (tmp_path / "benchmark_model").write_bytes(FAKE_ELF)
        dev.push(str(tmp_path / "benchmark_model"), "/data/local/tmp/benchmark_model")
        dev.push(str(make_tiny_tflite(tmp_path / "tiny.tflite")), "/data/local/tmp/m.tflite")
        pushed = sandbox / "data/local/tmp/m.tflite"
        assert pushed.is_file()

        # a stand-in that would run for minutes: it must not outlive the simulator either
        cmd = ("/data/local/tmp/benchmark_model --graph=/data/local/tmp/m.tflite --warmup_min_secs=0 "
               "--num_runs=100000000 --min_secs=600 --max_secs=600")
        threading.Thread(target=lambda: _swallow(dev.shell, cmd, read_timeout_s=120), daemon=True).start()
        parent = psutil.Process(sim.pid)
        assert wait_for(lambda: any("_toolrun" in " ".join(c.cmdline()) for c in parent.children(recursive=True)), 60)
        children = parent.children(recursive=True)   # the stand-in and the sandbox's reaper

        sim.kill()
        sim.wait(timeout=10)
        assert wait_for(lambda: not sandbox.exists(), 5), f"{sandbox} is still there after kill -9"
        assert wait_for(lambda: not any(alive(c) for c in children), 5), \
            [c.cmdline() for c in children if alive(c)]
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()


def _swallow(fn, *a, **k):
    try:
        fn(*a, **k)
    except Exception:   # the connection dies with the simulator: expected
        pass


def test_a_new_simulator_sweeps_sandboxes_of_dead_owners(tmp_path, monkeypatch):
    """A sandbox whose reaper was killed too (or the machine lost power) is removed by the next simulator."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{PREFIX}{dead.pid}-abcd"
    (stale / "data/local/tmp").mkdir(parents=True)
    (stale / "data/local/tmp/m.nb").write_bytes(b"model")
    live = tmp_path / f"{PREFIX}{os.getppid()}-efgh"   # a running simulator's (our parent is alive)
    live.mkdir()
    unrelated = tmp_path / f"{PREFIX}noowner"
    unrelated.mkdir()
    assert sweep_stale(str(tmp_path)) == [stale]
    assert not stale.exists() and live.exists() and unrelated.exists()

    from android_runner.simulator import DeviceSimulator

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)   # re-read TMPDIR
    stale.mkdir()
    with DeviceSimulator() as s:
        own = s.device_path("/")
        assert own.parent == tmp_path.resolve() and own.name.startswith(f"{PREFIX}{os.getpid()}-")
        assert not stale.exists()
    assert not own.exists()
