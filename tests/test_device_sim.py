"""The device simulator driven by the REAL adb_shell client (what edgekit's transport uses)."""
from __future__ import annotations

import os
import re
import threading

import pytest

from adb_shell.adb_device import AdbDeviceTcp
from adb_shell.auth.keygen import keygen
from adb_shell.auth.sign_pythonrsa import PythonRSASigner

from android_runner.simulator import DeviceSimulator
from conftest import make_tiny_tflite
from android_runner.simulator.shell import ShellSyntaxError, parse

FAKE_ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 57   # enough of an arm64 ELF header for the stand-in check


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    d = tmp_path_factory.mktemp("adbkey")
    keygen(str(d / "adbkey"))
    return PythonRSASigner((d / "adbkey.pub").read_text(), (d / "adbkey").read_text())


@pytest.fixture()
def sim():
    with DeviceSimulator() as s:
        yield s


def connect(sim, signer, timeout=5):
    dev = AdbDeviceTcp("127.0.0.1", sim.port, default_transport_timeout_s=timeout)
    assert dev.connect(rsa_keys=[signer], auth_timeout_s=2, read_timeout_s=timeout)
    return dev


def test_auth_new_key_then_signature(sim, signer):
    connect(sim, signer).close()
    connect(sim, signer).close()
    # first connection: key offered and accepted; second: the signature alone verifies against the trusted key
    assert sim.auth_log == ["new-key", "signature"]


def test_wrong_key_signature_is_not_trusted(sim, signer, tmp_path):
    connect(sim, signer).close()
    keygen(str(tmp_path / "other"))
    other = PythonRSASigner((tmp_path / "other.pub").read_text(), (tmp_path / "other").read_text())
    connect(sim, other).close()
    assert sim.auth_log == ["new-key", "new-key"]   # a different key's signature did not pass as the first


def test_refused_auth_raises(signer):
    with DeviceSimulator(refuse_auth=True) as sim:
        dev = AdbDeviceTcp("127.0.0.1", sim.port, default_transport_timeout_s=1)
        with pytest.raises(Exception):
            dev.connect(rsa_keys=[signer], auth_timeout_s=1, read_timeout_s=1)
        assert sim.auth_log == ["refused"]


def test_getprop_and_sysfs(sim, signer):
    dev = connect(sim, signer)
    assert dev.shell("getprop ro.board.platform") == "msmnile\n"
    assert dev.shell("getprop ro.edgekit.simulated") == "1\n"
    assert dev.shell("cat /sys/devices/system/cpu/cpu7/cpufreq/cpuinfo_max_freq") == "2841600\n"
    assert dev.shell("cat /sys/devices/system/cpu/online") == "0-7\n"
    assert int(dev.shell("cat /sys/class/thermal/thermal_zone0/temp")) > 20000


def test_quoting_and_sequencing(sim, signer):
    dev = connect(sim, signer)
    assert dev.shell("echo 'a;b'") == "a;b\n"
    assert not sim.device_path("/data/local/tmp/x").exists()
    assert dev.shell("echo a; touch /data/local/tmp/x") == "a\n"
    assert sim.device_path("/data/local/tmp/x").exists()
    # quoted injection attempts stay data
    assert dev.shell("echo '$(touch /data/local/tmp/pwn)' \"x; rm -r /\"") == "$(touch /data/local/tmp/pwn) x; rm -r /\n"
    assert not sim.device_path("/data/local/tmp/pwn").exists()
    assert dev.shell("nosuchcmd; echo $?") == "/system/bin/sh: nosuchcmd: not found\n127\n"
    assert dev.shell("test -f /data/local/tmp/x && echo yes || echo no") == "yes\n"
    assert dev.shell("[ -d /data/local/tmp/x ] && echo yes || echo no") == "no\n"
    assert dev.shell("ls /nope >/dev/null 2>&1; echo rc=$?") == "rc=1\n"
    assert dev.shell("mkdir -p /data/local/tmp/a/b && echo hi > /data/local/tmp/a/b/f && stat -c %s /data/local/tmp/a/b/f") == "3\n"
    assert dev.shell("taskset 80 echo pinned") == "pinned\n"
    import shlex
    tricky = "it's a \"model\"; $(reboot) `id` x.tflite"
    assert dev.shell(f"echo {shlex.quote(tricky)}; echo \"EXIT:$?\"") == tricky + "\nEXIT:0\n"
    assert dev.shell("sh -c 'echo inner; false'; echo $?") == "inner\n1\n"


def test_parser_rejects_unsupported_syntax():
    with pytest.raises(ShellSyntaxError):
        parse("echo $(id)")
    with pytest.raises(ShellSyntaxError):
        parse("cat x | grep y")
    assert parse("a 2>&1")[0].redirects == [(2, ">&", "1")]


def test_push_stat_pull_round_trip(sim, signer, tmp_path):
    dev = connect(sim, signer)
    data = os.urandom(1 << 20)
    (tmp_path / "in.bin").write_bytes(data)
    dev.push(str(tmp_path / "in.bin"), "/data/local/tmp/in.bin")
    mode, size, _ = dev.stat("/data/local/tmp/in.bin")
    assert size == len(data) and mode & 0o100
    assert sim.device_path("/data/local/tmp/in.bin").read_bytes() == data
    dev.pull("/data/local/tmp/in.bin", str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == data
    import hashlib
    assert dev.shell("sha256sum /data/local/tmp/in.bin").split()[0] == hashlib.sha256(data).hexdigest()
    assert dev.stat("/data/local/tmp/missing") == (0, 0, 0)


def test_push_outside_writable_area_fails(sim, signer, tmp_path):
    dev = connect(sim, signer)
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(Exception):
        dev.push(str(tmp_path / "f"), "/system/bin/evil")
    assert not sim.device_path("/system/bin/evil").exists()


def test_dotdot_cannot_escape_root(sim, signer, tmp_path):
    dev = connect(sim, signer)
    outside = tmp_path / "outside.txt"
    outside.write_text("host secret")
    rel = "/data/local/tmp/" + "../" * 20 + str(outside).lstrip("/")
    assert "host secret" not in dev.shell(f"cat {rel}")
    assert sim.device_path(rel).resolve().is_relative_to(sim.device_path("/").resolve())
    with pytest.raises(Exception):
        dev.pull(rel, str(tmp_path / "got"))
    dev.shell("touch /data/local/tmp/../../../../escape")   # lands on the device's /escape: read-only
    assert not (sim.device_path("/") / "escape").exists()


@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory):
    return make_tiny_tflite(tmp_path_factory.mktemp("m") / "tiny.tflite")


def _push_tool(dev, tmp_path, name):
    (tmp_path / name).write_bytes(FAKE_ELF)
    dev.push(str(tmp_path / name), f"/data/local/tmp/{name}")


@pytest.mark.slow
def test_benchmark_model_stand_in(sim, signer, tmp_path, tiny_tflite):
    dev = connect(sim, signer, timeout=60)
    _push_tool(dev, tmp_path, "benchmark_model")
    dev.push(str(tiny_tflite), "/data/local/tmp/my model.tflite")
    out = dev.shell("taskset 80 /data/local/tmp/benchmark_model --graph='/data/local/tmp/my model.tflite' "
                    "--num_threads=1 --warmup_runs=2 --warmup_min_secs=0 --num_runs=7 --min_secs=0; echo rc=$?",
                    read_timeout_s=60)
    assert out.splitlines()[0].startswith("EDGEKIT SIMULATED DEVICE")
    counts = re.findall(r"count=(\d+) first=\d+ curr=\d+ min=\d+ max=\d+ avg=([\d.e+]+) std=\d+", out)
    counts += re.findall(r"count=(\d+) curr=(\d+)\(all same\)", out)
    assert sorted(int(c) for c, _ in counts) == [2, 7], out
    assert re.search(r"Inference timings in us: Init: \d+, First inference: \d+, Warmup \(avg\): [\d.e+]+, "
                     r"Inference \(avg\): [\d.e+]+", out)
    assert "Memory footprint delta from the start of the tool (MB): init=" in out
    assert out.rstrip().endswith("rc=0")
    assert sim.exec_log[-1]["cpu_mask"] == "80" and sim.exec_log[-1]["rc"] == 0


def test_stand_in_errors(sim, signer, tmp_path):
    dev = connect(sim, signer)
    _push_tool(dev, tmp_path, "benchmark_model")
    _push_tool(dev, tmp_path, "benchmark_bin")
    out = dev.shell("/data/local/tmp/benchmark_model --graph=/data/local/tmp/none.tflite; echo rc=$?")
    assert "ERROR: Could not open '/data/local/tmp/none.tflite'." in out and out.endswith("rc=1\n")
    out = dev.shell("/data/local/tmp/benchmark_model --bogus=1; echo rc=$?")
    assert "Unconsumed cmdline flags: --bogus=1" in out and out.endswith("rc=1\n")
    out = dev.shell("/data/local/tmp/benchmark_bin --optimized_model_file=/data/local/tmp/m.nb; echo rc=$?")
    assert "/data/local/tmp/m.nb" in out and out.endswith("rc=1\n")
    dev.shell("echo notelf > /data/local/tmp/benchmark_model")
    assert dev.shell("chmod 755 /data/local/tmp/benchmark_model; /data/local/tmp/benchmark_model; echo $?").endswith("126\n")


@pytest.mark.slow
def test_drop_hook_cuts_connection_and_reconnect_works(sim, signer, tmp_path, tiny_tflite):
    dev = connect(sim, signer, timeout=20)
    _push_tool(dev, tmp_path, "benchmark_model")
    dev.push(str(tiny_tflite), "/data/local/tmp/t.tflite")
    sim.drop_connections_after_execs(1)
    cmd = ("/data/local/tmp/benchmark_model --graph=/data/local/tmp/t.tflite --warmup_min_secs=0 "
           "--num_runs=3 --min_secs=0")
    with pytest.raises(Exception):
        dev.shell(cmd + "; echo finished", read_timeout_s=3)   # adb_shell notices EOF only by read timeout
    assert sim.exec_count == 1 and sim.drop_count == 1
    dev2 = connect(sim, signer, timeout=30)
    assert "count=3" in dev2.shell(cmd, read_timeout_s=30)   # one-shot: the second run survives
    assert sim.exec_count == 2


def test_cli_prints_listening_line(capsys):
    from edge_kit.commands import device_sim

    stop = threading.Event()
    args = type("A", (), {"profile": "sd855", "port": 0, "refuse_auth": False})()
    t = threading.Thread(target=device_sim.run, args=(args, stop))
    t.start()
    out = ""
    for _ in range(100):
        out += capsys.readouterr().out
        if out:
            break
        threading.Event().wait(0.05)
    stop.set()
    t.join(5)
    assert not t.is_alive()
    assert re.fullmatch(r"edgekit device-sim: listening on 127\.0\.0\.1:\d+ \(simulated sd855; results measured "
                        r"here are labelled simulated\)\n", out), out


def test_thermal_rises_under_load_and_falls_after():
    from android_runner.simulator.profile_sd855 import IDLE_MILLIC, Thermal

    th = Thermal()
    temp = lambda: int(th.dynamic_files()["/sys/class/thermal/thermal_zone0/temp"])
    freq = lambda: int(th.dynamic_files()["/sys/devices/system/cpu/cpu7/cpufreq/scaling_cur_freq"])
    assert temp() == IDLE_MILLIC and freq() < 2841600
    th.set_busy(True)
    threading.Event().wait(0.3)
    hot = temp()
    assert hot > IDLE_MILLIC and freq() == 2841600
    th.set_busy(False)
    threading.Event().wait(0.3)
    assert IDLE_MILLIC <= temp() < hot


def test_builtin_errors_are_toybox_style_and_do_not_stop_other_paths(sim, signer):
    # adb's shell v1 merges stderr into the output; the exit code comes from `echo $?`.
    dev = connect(sim, signer)
    t = "/data/local/tmp"
    assert dev.shell(f"mkdir {t}/d; mkdir {t}/d; echo $?") == f"mkdir: '{t}/d': File exists\n1\n"
    assert dev.shell(f"echo x > {t}/f; cat {t}/nope {t}/f; echo $?") == \
        f"cat: {t}/nope: No such file or directory\nx\n1\n"
    assert dev.shell(f"cat {t}/d") == f"cat: {t}/d: Is a directory\n"
    assert dev.shell(f"chmod 755 {t}/nope {t}/f; echo $?; stat -c %a {t}/f") == \
        f"chmod: {t}/nope: No such file or directory\n1\n755\n"
    assert dev.shell(f"chmod 7z5 {t}/f; echo $?") == "chmod: bad mode '7z5'\n1\n"
    assert dev.shell("touch /system/x; echo $?").startswith("touch: '/system/x': ")


def test_a_stopped_phone_frees_its_port_at_once():
    """Unplug and re-plug on the same port without a pause (CI failed with EADDRINUSE: the accept
    thread's poll kept the listening socket alive for up to 0.2 s after stop())."""
    for _ in range(10):
        sim = DeviceSimulator().start()
        sim.stop()
        DeviceSimulator(port=sim.port).start().stop()
