"""AndroidDevice against the real-protocol device simulator on a loopback port (no mocks: the real
adb_shell client, the simulator's ADB server, shell parser and sync service)."""
import socket
import stat

import pytest

sim_server = pytest.importorskip("android_runner.simulator.server")

from android_runner.android_device import DeviceBusyError, SerialLock, open_android_device  # noqa: E402
from android_runner.testing import write_fake_android_elf  # noqa: E402
from android_runner.thermal import CoolDown  # noqa: E402
from android_runner.tools import ToolError  # noqa: E402
from android_runner.transport import DeviceAuthError, DeviceUnreachableError  # noqa: E402
from edge_kit.bench.cell import Cell  # noqa: E402
from conftest import make_tiny_tflite  # noqa: E402
from edge_kit.manifest import Artifact  # noqa: E402

INJECT = "m; touch pwned $(reboot) `touch pwned2`.tflite"   # a host file name cannot hold '/'


def _pwned(sim) -> list:
    """Any file on the simulated device an injected `touch pwned...` would have created."""
    return [p for p in sim.device_path("/").rglob("pwned*")]


@pytest.fixture
def sim():
    with sim_server.DeviceSimulator(profile="sd855", port=0) as s:
        yield s


@pytest.fixture
def env(tmp_path):
    tools = tmp_path / "tools"
    tools.mkdir()
    write_fake_android_elf(tools / "benchmark_model")
    write_fake_android_elf(tools / "benchmark_bin")
    return {"key": tmp_path / "keys" / "adbkey", "locks": tmp_path / "locks", "tools": tools,
            "cfg": tmp_path / "no-config.json"}


def _open(sim, env, **kw):
    return open_android_device("sd855", sim.serial, str(env["tools"]), key_path=env["key"], lock_dir=env["locks"],
                               tool_config=env["cfg"], cooldown=CoolDown(threshold_c=45.0, timeout_s=10),
                               backoff_s=0.1, **kw)


def test_key_created_once_then_reused(sim, env):
    dev = _open(sim, env)
    dev.close()
    key = env["key"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.with_name("adbkey.pub").exists()
    first = key.read_bytes()
    dev = _open(sim, env)
    dev.close()
    assert key.read_bytes() == first                          # not regenerated
    assert sim.auth_log[0] == "new-key" and sim.auth_log[-1] == "signature"   # the phone trusted it once


def test_device_info_from_the_device(sim, env):
    dev = _open(sim, env)
    try:
        assert dev.name == "sd855-sim" and dev.simulated is True
        info = dev.info
        assert info.platform == "msmnile" and info.abi == "arm64-v8a" and info.n_cores == 8
        assert info.cluster_masks() == ["80", "70", "0f"] and info.big_mask() == "f0"
        assert dev.default_mask(1) == "80" and dev.default_mask(4) == "f0" and dev.default_mask(8) == "ff"
        assert len(info.thermal_zones) == 4
        assert dev.artifact_target("paddlelite") == "x86" and dev.artifact_target("tflite") == "cpu"
        assert sorted(dev.backends()) == ["paddlelite", "tflite"]
        assert dev.describe()["clusters"][0] == {"cpus": [7], "max_khz": 2841600, "mask": "80"}
    finally:
        dev.close()


def test_refused_auth_says_what_to_do(env):
    with sim_server.DeviceSimulator(port=0, refuse_auth=True) as s:
        with pytest.raises(DeviceAuthError, match="Allow"):
            _open(s, env)


def test_unreachable_port(env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeviceUnreachableError, match=f"127.0.0.1:{port}"):
        open_android_device("sd855", f"127.0.0.1:{port}", str(env["tools"]), key_path=env["key"],
                            lock_dir=env["locks"], tool_config=env["cfg"], connect_timeout_s=2)


def test_x86_tool_rejected_before_push(sim, env):
    write_fake_android_elf(env["tools"] / "benchmark_model", machine=62)
    with pytest.raises(ToolError, match="x86-64"):
        _open(sim, env)
    assert not sim.device_path("/data/local/tmp/edgekit").exists()


def test_one_process_per_serial(sim, env):
    dev = _open(sim, env)
    try:
        with pytest.raises(DeviceBusyError, match="already in use"):
            SerialLock(sim.serial, env["locks"])
    finally:
        dev.close()
    SerialLock(sim.serial, env["locks"]).release()          # free again once closed


def test_push_once_per_hash(sim, env, tmp_path):
    dev = _open(sim, env)
    try:
        f = tmp_path / INJECT
        f.write_bytes(b"x" * 5000)
        a = dev.pusher.push(f)
        b = dev.pusher.push(f)
        assert a.transferred and not b.transferred and a.remote == b.remote
        assert a.remote.startswith("/data/local/tmp/edgekit/" + a.sha256[:16] + "/")
        assert sim.device_path(a.remote).read_bytes() == b"x" * 5000
        assert _pwned(sim) == []
        f.write_bytes(b"y" * 5000)                         # new content -> new directory
        assert dev.pusher.push(f).remote != a.remote
    finally:
        dev.close()


def test_shell_arguments_stay_literal_on_device(sim, env):
    dev = _open(sim, env)
    try:
        words = ["a; touch /data/local/tmp/pwned", "$(touch /data/local/tmp/pwned)", "`reboot`", "it's", "x y"]
        out, rc = dev.t.shell(["echo", *words])
        assert rc == 0 and out == " ".join(words) + "\n"
        _, rc = dev.t.shell(["ls", "/data/local/tmp/nope; touch /data/local/tmp/pwned"])
        assert rc == 1
        assert not sim.device_path("/data/local/tmp/pwned").exists() and _pwned(sim) == []
    finally:
        dev.close()


# ---------------------------------------------------------------- runs a real model through the stand-in
@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory):
    path = make_tiny_tflite(tmp_path_factory.mktemp("m") / INJECT)
    return Artifact(path, {"model": "tiny", "format": "tflite", "target": "cpu", "precision": "fp32",
                           "status": "ok", "inputs": [{"name": "x", "shape": [1, 8], "dtype": "float32"}]})


@pytest.mark.slow
def test_measure_is_labelled_simulated_and_injection_proof(sim, env, tiny_tflite):
    dev = _open(sim, env)
    try:
        m = dev.measure(Cell("tiny", "tflite", "fp32", 1, dev.name, warmup=2, repeats=5), tiny_tflite)
        assert m.count == 5 and 0 <= m.min_ms <= m.mean_ms <= m.max_ms   # a tiny model can take < 1 us
        assert m.extra["simulated"] is True and m.extra["device"] == "sd855-sim"
        assert m.extra["measured_on"].startswith("simulated ")
        assert m.extra["cpu_mask"] == "80" and sim.exec_log[-1]["cpu_mask"] == "80"   # pinned to the prime core
        assert "--num_runs=5" in m.extra["tool_cmdline"] and m.extra["attempts"] == 1
        assert set(m.extra["before"]["cur_freq_khz"]) == set(range(8)) and m.extra["before"]["max_temp_c"] > 0
        assert _pwned(sim) == []
        m4 = dev.measure(Cell("tiny", "tflite", "fp32", 4, dev.name, warmup=1, repeats=3), tiny_tflite)
        assert m4.count == 3 and sim.exec_log[-1]["cpu_mask"] == "f0"
        assert sum(1 for e in sim.exec_log if e["path"].endswith("benchmark_model")) == 2
    finally:
        dev.close()


@pytest.mark.slow
def test_connection_cut_mid_run_is_survived(sim, env, tiny_tflite):
    dev = _open(sim, env)
    try:
        before = sim.exec_count
        sim.drop_connections_after_execs(1)       # the first run's output is lost with the link
        m = dev.measure(Cell("tiny", "tflite", "fp32", 1, dev.name, warmup=1, repeats=3), tiny_tflite)
        assert m.count == 3 and m.extra["attempts"] == 2 and dev.reconnects == 1
        assert sim.exec_count - before == 2       # the cell was re-run once, nothing else
        out, rc = dev.t.shell(["getprop", "ro.board.platform"])
        assert (out.strip(), rc) == ("msmnile", 0)   # the device object is usable afterwards
    finally:
        dev.close()
