"""Issue 12, using a phone: the simulator dry run works out of the box; a real phone without tools is
told exactly which binaries to get."""
from __future__ import annotations

import json


from android_runner.simulator.server import DeviceSimulator
from conftest import run_cli


def _env(tmp_path):
    return {"EDGEKIT_ADB_KEY": str(tmp_path / "android" / "adbkey"), "EDGEKIT_LOCK_DIR": str(tmp_path / "locks"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "EDGEKIT_TOOL_DIR": "", "EDGEKIT_CACHE": str(tmp_path / "c")}


def test_simulator_dry_run_needs_no_tool_dir(tmp_path, tiny_tflite):
    with DeviceSimulator() as sim:
        r = run_cli("bench", "--device", "sd855", "--serial", sim.serial, "--artifact", str(tiny_tflite),
                    "--threads", "1", "--warmup", "1", "--repeats", "3", "--quiet", "--results-dir",
                    str(tmp_path / "res"), "--json", env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["device"] == "sd855-sim" and doc["measured"] == 1
    assert doc["cells"][0]["simulated"] is True and doc["cells"][0]["mean_ms"] > 0


def test_real_phone_without_tools_is_told_what_to_get(tmp_path, tiny_tflite):
    """A phone that is not simulated gets the exact binaries, versions and where to get them."""
    with DeviceSimulator() as sim:
        sim.device.props["ro.edgekit.simulated"] = "0"  # present it as real hardware
        r = run_cli("bench", "--device", "sd855", "--serial", sim.serial, "--artifact", str(tiny_tflite),
                    "--quiet", "--results-dir", str(tmp_path / "res"), env=_env(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for needle in ("v2.13-rc", "--with_benchmark=ON", "android_aarch64_benchmark_model", "2.21"):
        assert needle in r.stderr, r.stderr


def test_device_auto_says_what_it_picked(tmp_path, monkeypatch, capsys):
    from edge_kit.bench.devices import open_device

    for k, v in _env(tmp_path).items():
        monkeypatch.setenv(k, v)
    with DeviceSimulator() as sim:
        dev = open_device("auto", serial=sim.serial)
        dev.close()
    assert "--device auto picked sd855-sim" in capsys.readouterr().err
    dev = open_device("auto", serial="127.0.0.1:1")  # nothing listens there
    assert dev.name == "host" and "--device auto: no phone" in capsys.readouterr().err
