"""`edgekit bench --device sd855` end to end, as a user runs it, against the ADB device simulator:
the real adb-shell client, the real wire protocol, stand-in tools that really run the model."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from android_runner.simulator.server import DeviceSimulator
from android_runner.testing import write_fake_android_elf
from conftest import ROOT, read_results, run_cli
from edge_kit.manifest import manifest_path


@pytest.fixture
def phone_env(tmp_path, monkeypatch):
    tools = tmp_path / "tools"
    tools.mkdir()
    write_fake_android_elf(tools / "benchmark_bin")     # stands for the user's Android arm64 builds
    write_fake_android_elf(tools / "benchmark_model")
    env = {"EDGEKIT_ADB_KEY": str(tmp_path / "android" / "adbkey"), "EDGEKIT_LOCK_DIR": str(tmp_path / "locks")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return tools, tmp_path / "results"


def _bench(serial: str, tools: Path, results: Path, *extra: str):
    return run_cli("bench", "--device", "sd855", "--serial", serial, "--tool-dir", str(tools), "--results-dir",
                   str(results), "--warmup", "1", "--repeats", "5", "--quiet", *extra)


def test_injection_through_model_path_runs_nothing_on_the_phone(phone_env, tiny_tflite, tmp_path):
    tools, results = phone_env
    evil_dir = tmp_path / "user's models; touch $(echo x)"
    evil_dir.mkdir()
    evil = evil_dir / "m; touch pwned $(touch pwned2) `touch pwned3` 'q\\\".tflite"
    shutil.copy(tiny_tflite, evil)
    shutil.copy(manifest_path(tiny_tflite), manifest_path(evil))
    with DeviceSimulator() as sim:
        r = _bench(sim.serial, tools, results, "--artifact", str(evil), "--threads", "1")
        assert r.returncode == 0, r.stderr
        assert not [p for p in sim.device_path("/").rglob("pwned*")]
        ran = [e["path"] for e in sim.exec_log]
        assert ran and all(p.endswith("/benchmark_model") for p in ran)  # no touch, no reboot, no id
    [rec] = read_results(results)
    assert rec["status"] == "ok" and rec["simulated"] is True and rec["device"] == "sd855-sim"
    assert rec["measurement"]["mean_ms"] > 0
    assert "on sd855-sim (simulated): avg " in r.stdout  # the number it measured (the tool reports an average)


def test_connection_cut_mid_run_is_survived(phone_env, tiny_tflite):
    tools, results = phone_env
    with DeviceSimulator() as sim:
        sim.drop_connections_after_execs(1)  # the first benchmark run loses its connection
        r = _bench(sim.serial, tools, results, "--artifact", str(tiny_tflite), "--threads", "1,4")
        assert r.returncode == 0, r.stderr
        assert sim.drop_count == 1
    recs = read_results(results)
    assert sorted(r["threads"] for r in recs) == [1, 4] and all(r["status"] == "ok" for r in recs)
    # One cell needed a second attempt (a re-measure of a noisy cell keeps the first try's count in flags).
    tries = [max(r["measurement"]["extra"].get("attempts", 1), r["flags"].get("first_attempts", 1)) for r in recs]
    assert max(tries) == 2
    # Pinned the way published tables are taken: 1 thread on the prime core, 4 on the big cores.
    masks = {r["threads"]: r["measurement"]["extra"]["cpu_mask"] for r in recs}
    assert masks == {1: "80", 4: "f0"}


def test_phone_lost_then_rerun_resumes_with_nothing_lost(phone_env, tiny_tflite):
    tools, results = phone_env
    sim = DeviceSimulator().start()
    port = sim.port
    cmd = [sys.executable, "-m", "edge_kit.cli", "bench", "--device", "sd855", "--serial", sim.serial, "--tool-dir",
           str(tools), "--results-dir", str(results), "--warmup", "1", "--repeats", "20", "--quiet",
           "--artifact", str(tiny_tflite), "--threads", "1,2,3,4"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 180
    while not read_results(results) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    sim.stop()  # the phone is unplugged after the first cell was stored
    out, err = proc.communicate(timeout=300)
    first = read_results(results)
    ok_first = [r for r in first if r["status"] == "ok"]
    assert 1 <= len(ok_first) < 4, err
    assert any(r["status"] == "failed" for r in first) or proc.returncode != 0
    # Plugged back in (same serial): the re-run skips what was measured and measures the rest.
    with DeviceSimulator(port=port) as sim2:
        r = _bench(sim2.serial, tools, results, "--artifact", str(tiny_tflite), "--threads", "1,2,3,4")
        assert r.returncode == 0, r.stderr
        assert f"skipped {len(ok_first)} already in the store" in r.stderr
    latest = {}
    for rec in read_results(results):
        latest[rec["key"]] = rec
    assert len(latest) == 4 and all(rec["status"] == "ok" for rec in latest.values())
    # The cells measured before the phone vanished were not measured again.
    for rec in ok_first:
        assert latest[rec["key"]]["timestamp"] == rec["timestamp"]


def test_refused_authorisation_says_what_to_do(phone_env):
    tools, results = phone_env
    with DeviceSimulator(refuse_auth=True) as sim:
        r = _bench(sim.serial, tools, results, "MobileNetV3_small_ssld")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Allow" in r.stderr or "allow" in r.stderr
