"""Phones through the stock adb server (Debian's `adb`, a real adb 29 server process) connected to
edgekit's device simulators over the real wire protocol: edgekit's host-protocol client
(host:version, host:devices-l, host:transport, shell,v2 exit codes, sync), then `edgekit bench` on two
phones in parallel, one killed mid-run and resumed."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from android_runner.adb_server import AdbServer, ServerTransport, parse_devices_l, parse_server_socket
from android_runner.android_device import open_android_device
from android_runner.simulator.server import DeviceSimulator, bind_stable_port
from android_runner.testing import write_fake_android_elf
from android_runner.transport import DeviceConnectionLost, DeviceUnreachableError
from conftest import ROOT, read_results, run_cli

ADB = shutil.which("adb")


def _free_port() -> int:
    with socket.socket() as s:
        return bind_stable_port(s, "127.0.0.1")


@pytest.fixture(scope="module")
def adb_server(tmp_path_factory):
    """A real adb server on a private port with a private HOME (its own RSA key), killed afterwards."""
    if ADB is None:
        if os.environ.get("EDGEKIT_REQUIRE_ADB"):
            pytest.fail("EDGEKIT_REQUIRE_ADB is set but there is no `adb` binary (scripts/setup.sh installs "
                        "Debian's adb package)")
        pytest.skip("no `adb` binary: install Debian's adb package (scripts/setup.sh does) to test the adb-server path")
    home = tmp_path_factory.mktemp("adbhome")
    port = _free_port()
    env = {**os.environ, "HOME": str(home), "ANDROID_SDK_HOME": str(home)}
    env.pop("ADB_SERVER_SOCKET", None)
    subprocess.run([ADB, "-P", str(port), "start-server"], env=env, check=True, capture_output=True, timeout=60)
    server = AdbServer("127.0.0.1", port)
    try:
        yield server
    finally:
        subprocess.run([ADB, "-P", str(port), "kill-server"], env=env, capture_output=True, timeout=30)


def _attach(server: AdbServer, sim: DeviceSimulator) -> ServerTransport:
    """`adb connect`, then wait until the server has authorised the phone."""
    return ServerTransport(server, sim.serial).connect()


@pytest.fixture
def env(tmp_path, monkeypatch):
    tools = tmp_path / "tools"
    tools.mkdir()
    write_fake_android_elf(tools / "benchmark_bin")
    write_fake_android_elf(tools / "benchmark_model")
    monkeypatch.setenv("EDGEKIT_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("EDGEKIT_ADB_KEY", str(tmp_path / "android" / "adbkey"))
    monkeypatch.delenv("ADB_SERVER_SOCKET", raising=False)
    return tools, tmp_path / "results"


def test_parsers():
    assert parse_server_socket("tcp:lab:5038") == ("lab", 5038)
    assert parse_server_socket("5039") == ("127.0.0.1", 5039)
    with pytest.raises(DeviceUnreachableError, match="tcp:HOST:PORT"):
        parse_server_socket("tcp:lab:x")
    devs = parse_devices_l("emulator-5554  device product:sdk model:Pixel_7 device:panther transport_id:3\n"
                           "0123ABC  no permissions (user in plugdev group) usb:1-1 transport_id:4\n"
                           "10.0.0.2:5555  unauthorized transport_id:5\n")
    assert [(d.serial, d.state) for d in devs] == [("emulator-5554", "device"), ("0123ABC", "no permissions (user in "
                                                   "plugdev group)"), ("10.0.0.2:5555", "unauthorized")]
    assert devs[0].model == "Pixel 7" and devs[0].props["transport_id"] == "3"


def test_serial_lists_and_per_phone_columns():
    from android_runner.farm import split_serials
    from edge_kit.report.tables import device_label, is_simulated

    assert split_serials(" A, B,A,,C ") == ["A", "B", "C"] and split_serials(None) == []
    assert device_label({"device": "sd855@R58M1"}) == "SD855 ms (measured, R58M1)"     # a real SD855 of a farm run
    assert device_label({"device": "sd855"}) == "SD855 ms (measured)"
    sim = {"device": "sd855-sim@127.0.0.1:5557", "simulated": True}
    assert device_label(sim) == "sd855-sim 127.0.0.1:5557 ms (simulated)" and is_simulated(sim)
    assert is_simulated({"device": "sd865-sim@X"})     # even without the flag, the name says simulated
    assert device_label({"device": "kalama@X"}) == "kalama X ms"


def test_no_server_is_a_clear_error():
    with pytest.raises(DeviceUnreachableError, match="no adb server at tcp:127.0.0.1:.*adb start-server"):
        AdbServer("127.0.0.1", _free_port(), timeout_s=2).version()


def test_host_protocol_shell_v2_and_sync_through_stock_adb(adb_server, tmp_path):
    assert adb_server.version() >= 0x1f   # adb 29 answers 0x29 (41)
    with DeviceSimulator() as sim:
        t = _attach(adb_server, sim)
        [dev] = [d for d in adb_server.devices() if d.serial == sim.serial]
        assert dev.state == "device" and dev.model == "EdgekitSim SD855" and "transport_id" in dev.props
        assert "shell_v2" in t.features
        # exit codes come from the v2 EXIT packet (v1 `shell:` through adb would always say 0)
        assert t.shell(["sh", "-c", "exit 7"]) == ("", 7)
        out, rc = t.shell(["ls", "/data/local/tmp/nope; touch /data/local/tmp/pwned"])
        assert rc == 1 and "No such file" in out
        words = ["a; touch /data/local/tmp/pwned", "$(reboot)", "`id`", "it's", "x  y"]
        assert t.shell(["echo", *words]) == (" ".join(words) + "\n", 0)
        assert not sim.device_path("/data/local/tmp/pwned").exists()
        # sync: a file larger than one 64 KiB DATA chunk, there and back, byte for byte
        blob = os.urandom(200_000)
        (tmp_path / "f.bin").write_bytes(blob)
        t.check(["mkdir", "-p", "/data/local/tmp/x"])
        t.push(tmp_path / "f.bin", "/data/local/tmp/x/f.bin", mode=0o755)
        mode, size, _ = t.stat("/data/local/tmp/x/f.bin")
        assert size == len(blob) and mode & 0o777 == 0o755
        assert sim.device_path("/data/local/tmp/x/f.bin").read_bytes() == blob
        assert t.stat("/data/local/tmp/none") == (0, 0, 0)
        t.pull("/data/local/tmp/x/f.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == blob
    # the phone is gone: a command is a lost connection (the runner reconnects), connect() says why
    with pytest.raises(DeviceConnectionLost):
        for _ in range(50):   # the server notices the closed socket within moments
            t.shell(["true"])
            time.sleep(0.1)
    with pytest.raises(DeviceUnreachableError, match=sim.serial):
        t.connect()


def test_unknown_serial_lists_what_the_server_has(adb_server):
    with DeviceSimulator() as sim:
        _attach(adb_server, sim)
        with pytest.raises(DeviceUnreachableError, match=f"no usable device 'R58M123'.*{sim.serial} \\(device\\)"):
            ServerTransport(adb_server, "R58M123", connect_timeout_s=1).connect()


def test_android_device_through_the_server(adb_server, env):
    tools, _ = env
    with DeviceSimulator() as sim:
        dev = open_android_device("sd855", sim.serial, str(tools), adb_server=f"tcp:127.0.0.1:{adb_server.port}",
                                  tool_config=tools / "none.json")
        try:
            assert isinstance(dev.t, ServerTransport)
            assert dev.name == "sd855-sim" and dev.info.cluster_masks() == ["80", "70", "0f"]
            a = dev.pusher.push(tools / "benchmark_model", executable=True)
            b = dev.pusher.push(tools / "benchmark_model", executable=True)
            assert a.transferred and not b.transferred     # push once per content hash, as direct
            assert sim.auth_log and all(e in ("new-key", "signature") for e in sim.auth_log)   # the server's key
        finally:
            dev.close()


# ---------------------------------------------------------------- two phones in parallel from the CLI
@pytest.mark.slow
def test_two_phones_in_parallel_one_killed_then_resumed(adb_server, env, tiny_tflite):
    tools, results = env
    spec = f"tcp:127.0.0.1:{adb_server.port}"
    a, b = DeviceSimulator().start(), DeviceSimulator().start()
    (port_a, serial_a), (port_b, serial_b) = (a.port, a.serial), (b.port, b.serial)
    serials = f"{serial_a},{serial_b},{serial_a}"   # A named twice is still one phone
    args = ["bench", "--device", "sd855", "--serial", serials, "--adb-server", spec, "--tool-dir", str(tools),
            "--results-dir", str(results), "--warmup", "1", "--repeats", "10", "--quiet", "--artifact", str(tiny_tflite),
            "--threads", "1,2,3,4"]
    try:
        for sim in (a, b):
            _attach(adb_server, sim)
        proc = subprocess.Popen([sys.executable, "-m", "edge_kit.cli", *args], cwd=ROOT, env=os.environ.copy(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        name_b = f"sd855-sim@{serial_b}"
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and \
                not any(r["device"] == name_b and r["status"] == "ok" for r in read_results(results)):
            time.sleep(0.2)
        b.stop()   # phone B is unplugged after its first cell; A goes on
        out, err = proc.communicate(timeout=400)
    finally:
        a.stop()
        b.stop()
    first = read_results(results)
    by_dev = {}
    for r in first:
        by_dev.setdefault(r["device"], []).append(r)
    name_a = f"sd855-sim@{serial_a}"
    assert set(by_dev) == {name_a, name_b}, err
    assert len(by_dev[name_a]) == 4 and all(r["status"] == "ok" for r in by_dev[name_a]), err
    ok_b = [r for r in by_dev[name_b] if r["status"] == "ok"]
    assert 1 <= len(ok_b) < 4, err
    # the phones ran at the same time (one worker each), not one after the other: some run on A
    # overlapped some run on B
    runs_a, runs_b = [(e["start"], e["end"]) for e in a.exec_log], [(e["start"], e["end"]) for e in b.exec_log]
    assert any(sa < eb and sb < ea for sa, ea in runs_a for sb, eb in runs_b), (runs_a, runs_b)
    assert all(r["device_info"]["serial"] == serial_b for r in by_dev[name_b])
    assert "phones: 2 selected, 2 opened" in err and f"{name_b}: EdgekitSim SD855 (msmnile, SIMULATED)" in err
    # each cell ran once, plus one re-measure for a cell the harness found noisy (cv > 15%, loaded machine)
    again = lambda recs: sum(1 for rec in recs if rec["flags"].get("remeasured"))
    assert a.exec_count == 4 + again(by_dev[name_a])

    # B plugged back in on the same port; the same command resumes: A has nothing left, B its missing cells
    a2, b2 = DeviceSimulator(port=port_a).start(), DeviceSimulator(port=port_b).start()
    try:
        r = run_cli(*args)
        assert r.returncode == 0, r.stderr
        assert a2.exec_count == 0                      # nothing of A measured twice
        new_b = [rec for rec in read_results(results)[len(first):] if rec["device"] == name_b]
        assert b2.exec_count == 4 - len(ok_b) + again(new_b)   # only B's missing cells
    finally:
        a2.stop()
        b2.stop()
    assert f"{name_a}: EdgekitSim SD855 (msmnile, SIMULATED): measured 0, skipped 4" in r.stderr
    assert f"{name_b}: EdgekitSim SD855 (msmnile, SIMULATED): measured {4 - len(ok_b)}, skipped {len(ok_b)}" in r.stderr
    latest = {}
    for rec in read_results(results):
        latest[rec["key"]] = rec
    assert len(latest) == 8 and all(rec["status"] == "ok" for rec in latest.values())
    for rec in ok_b:
        assert latest[rec["key"]]["timestamp"] == rec["timestamp"]
    # one column per phone in the printed table
    header = next(line for line in r.stdout.splitlines() if line.startswith("| Model"))
    assert f"sd855-sim {serial_a} ms (simulated), LiteRT fp32, 4 threads" in header
    assert f"sd855-sim {serial_b} ms (simulated), LiteRT fp32, 1 thread" in header


# ---------------------------------------------------------------- profiles: every ready device matching one
def test_phones_by_profile_through_the_server(adb_server, env):
    from android_runner.farm import open_phones

    tools, _ = env
    spec = f"tcp:127.0.0.1:{adb_server.port}"
    sims = {p: DeviceSimulator(profile=p).start() for p in ("sd8gen2", "exynos2100", "unknown")}
    try:
        for sim in sims.values():
            _attach(adb_server, sim)
        mine = {s.serial for s in sims.values()}
        farm = open_phones("sd8gen2", None, str(tools), adb_server=spec, tool_config=tools / "none.json",
                           log=lambda m: None)
        try:
            used = [d for d in farm.devices if d.t.serial in mine]
            assert [d.name for d in used] == [f"sd8gen2-sim@{sims['sd8gen2'].serial}"]
            g2 = used[0]
            # 1 x X3 + (2 x A715 + 2 x A710 at one clock) + 3 x A510: masks read from the phone's sysfs
            assert g2.info.cluster_masks() == ["80", "78", "07"]
            assert g2.default_mask(1) == "80" and g2.default_mask(4) == "f8" and g2.default_mask(8) == "ff"
            assert sorted(g2.info.gate_zones.values()) == ["cpu-0-0-usr", "cpu-1-0-usr", "cpu-1-4-usr", "cpu-1-7-usr"]
            skipped = {r.serial: r.skipped_reason for r in farm.runs if r.skipped_reason}
            assert skipped[sims["exynos2100"].serial] == "it is exynos2100, not sd8gen2"
            assert skipped[sims["unknown"].serial] == "it is edgekit_x9, not sd8gen2"
            assert "not used (it is exynos2100, not sd8gen2)" in farm.text()
        finally:
            for d in farm.devices:
                d.close()
        farm = open_phones("auto", None, str(tools), adb_server=spec, tool_config=tools / "none.json",
                           log=lambda m: None)
        try:
            by = {d.t.serial: d for d in farm.devices if d.t.serial in mine}
            ex, unk = by[sims["exynos2100"].serial], by[sims["unknown"].serial]
            assert ex.name.startswith("exynos2100-sim@")
            assert sorted(ex.info.gate_zones.values()) == ["BIG", "LITTLE", "MID"]   # not the GPU or battery
            # a SoC no profile knows is measured, named after its platform, with its sysfs topology
            assert unk.name == f"edgekit_x9-sim@{sims['unknown'].serial}"
            assert unk.info.cluster_masks() == ["f0", "0f"] and unk.default_mask(1) == "f0"
            assert unk.info.gate_zones is None and len(unk.info.thermal_zones) == 2
        finally:
            for d in farm.devices:
                d.close()
    finally:
        for sim in sims.values():
            sim.stop()


def test_devices_cli_lists_model_soc_and_state(adb_server):
    with DeviceSimulator(profile="dimensity9000") as sim:
        _attach(adb_server, sim)
        r = run_cli("devices", "--adb-server", f"tcp:127.0.0.1:{adb_server.port}")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith(f"| {sim.serial} "))
    assert row == (f"| {sim.serial} | device | EdgekitSim D9000 | mt6983 | MediaTek Dimensity 9000 (MT6983) | 1+3+4 "
                   f"| dimensity9000-sim |")


@pytest.mark.slow
def test_link_cut_mid_run_through_the_server_is_reattached_and_rerun(adb_server, env, tmp_path):
    from android_runner.thermal import CoolDown
    from conftest import make_tiny_tflite
    from edge_kit.bench.cell import Cell
    from edge_kit.manifest import Artifact

    tools, _ = env
    path = make_tiny_tflite(tmp_path / "tiny.tflite")
    art = Artifact(path, {"model": "tiny", "format": "tflite", "target": "cpu", "precision": "fp32", "status": "ok",
                          "inputs": [{"name": "x", "shape": [1, 8], "dtype": "float32"}]})
    with DeviceSimulator(profile="sd888") as sim:
        dev = open_android_device("auto", sim.serial, str(tools), adb_server=f"tcp:127.0.0.1:{adb_server.port}",
                                  tool_config=tools / "none.json", cooldown=CoolDown(timeout_s=10), backoff_s=0.2)
        try:
            assert dev.name == "sd888-sim"
            sim.drop_connections_after_execs(1)   # the adb server loses the phone after the first run
            m = dev.measure(Cell("tiny", "tflite", "fp32", 4, dev.name, warmup=1, repeats=3), art)
            assert m.count == 3 and m.extra["attempts"] >= 2 and dev.reconnects >= 1
            assert dev.t.reattached >= 1          # re-attached with host:connect, as `adb connect` would
            assert sim.exec_count == 2 and sim.exec_log[-1]["cpu_mask"] == "f0"   # re-run once, pinned to the big cores
        finally:
            dev.close()


def test_which_path_env_flag_and_none(monkeypatch, tmp_path):
    from android_runner.android_device import make_transport
    from android_runner.transport import AdbTransport

    key = tmp_path / "adbkey"
    monkeypatch.setenv("ADB_SERVER_SOCKET", "tcp:lab-host:5038")     # adb's own variable
    t = make_transport("R58M1", key_path=key)
    assert isinstance(t, ServerTransport) and (t.server.host, t.server.port, t.serial) == ("lab-host", 5038, "R58M1")
    t = make_transport("R58M1", "tcp:other:5039", key_path=key)      # the flag wins over the variable
    assert (t.server.host, t.server.port) == ("other", 5039)
    assert isinstance(make_transport("10.0.0.7:5555", "none", key_path=key), AdbTransport)   # forced direct
    monkeypatch.delenv("ADB_SERVER_SOCKET")
    monkeypatch.setattr("android_runner.adb_server.DEFAULT_PORT", _free_port())   # no local server there
    assert isinstance(make_transport("10.0.0.7:5555", key_path=key), AdbTransport)   # direct stays the default


def test_local_server_is_used_only_when_it_has_the_phone(adb_server):
    from android_runner.adb_server import local_server_has

    with DeviceSimulator() as sim:
        _attach(adb_server, sim)
        assert local_server_has(sim.serial, port=adb_server.port)
        assert not local_server_has("127.0.0.1:1", port=adb_server.port)
    assert not local_server_has(None, port=_free_port())


def test_unanswered_prompt_is_unauthorized_and_says_tap_allow(adb_server):
    from android_runner.transport import DeviceAuthError

    with DeviceSimulator(refuse_auth="pending") as sim:
        adb_server.connect_device(sim.serial)
        deadline = time.time() + 20
        while time.time() < deadline and not any(d.serial == sim.serial and d.state == "unauthorized"
                                                 for d in adb_server.devices()):
            time.sleep(0.2)
        assert [d.state for d in adb_server.devices() if d.serial == sim.serial] == ["unauthorized"]
        with pytest.raises(DeviceAuthError, match="tap 'Allow'"):
            ServerTransport(adb_server, sim.serial, connect_timeout_s=2).connect()
        r = run_cli("devices", "--adb-server", f"tcp:127.0.0.1:{adb_server.port}")
        assert f"| {sim.serial} | unauthorized |" in r.stdout and "tap 'Allow'" in r.stderr
        assert sim.auth_log[-1] == "pending"
