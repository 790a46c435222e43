"""Issue 12, crashes and hangs: each of these printed a traceback, hung or left something behind."""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from edge_kit.cli import main


def _one_line_error(rc, err, code=2):
    assert rc == code and "Traceback" not in err and err.strip().count("\n") == 0, err


def test_serial_at_a_server_that_is_not_adb(tmp_path, monkeypatch):
    from android_runner.transport import AdbTransport, DeviceUnreachableError

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def http():  # answers like a web server would
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + b"\0" * 64)
        time.sleep(0.5)
        conn.close()

    threading.Thread(target=http, daemon=True).start()
    monkeypatch.setenv("EDGEKIT_ADB_KEY", str(tmp_path / "android" / "adbkey"))
    t = AdbTransport(f"127.0.0.1:{srv.getsockname()[1]}")
    with pytest.raises(DeviceUnreachableError, match="not an ADB device"):
        t.connect()
    srv.close()


def test_bench_serial_at_a_web_server_is_one_line(tmp_path, capsys, monkeypatch):
    """What the user saw: `edgekit bench --device sd855 --serial HOST:PORT` at an HTTP server printed a
    raw InvalidCommandError traceback."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def http():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + b"\0" * 64)
            conn.close()

    threading.Thread(target=http, daemon=True).start()
    monkeypatch.setenv("EDGEKIT_ADB_KEY", str(tmp_path / "android" / "adbkey"))
    monkeypatch.setenv("EDGEKIT_LOCK_DIR", str(tmp_path / "locks"))
    rc = main(["bench", "MobileNetV3_small_ssld", "--device", "sd855", "--serial",
               f"127.0.0.1:{srv.getsockname()[1]}", "--adb-server", "none", "--results-dir", str(tmp_path / "r")])
    srv.close()
    err = capsys.readouterr().err
    _one_line_error(rc, err)
    assert "not an ADB device" in err, err


def test_adb_key_dir_is_private_whatever_the_umask(tmp_path):
    from android_runner.transport import ensure_adb_key

    old = os.umask(0)
    try:
        key = ensure_adb_key(tmp_path / "home" / ".android" / "adbkey")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_device_sim_port_out_of_range(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["device-sim", "--port", "70000"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "from 0 to 65535" in err and "Traceback" not in err


def test_broken_pipe_is_quiet():
    proc = subprocess.run(f"{sys.executable} -m edge_kit.cli models --json | head -c 10", shell=True, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_empty_format_list_is_an_error(capsys):
    rc = main(["convert", "MobileNetV3_small_ssld", "--to", ""])
    _one_line_error(rc, capsys.readouterr().err)


def test_bundle_output_that_is_a_file(tmp_path, capsys, monkeypatch):
    import edge_kit.bundle as bundle_mod

    blocker = tmp_path / "file"
    blocker.write_text("x")

    def bundle(*a, out_dir, **k):  # the real bundle() writes under out_dir; a file there is an OSError
        Path(out_dir, "app").mkdir(parents=True)

    monkeypatch.setattr(bundle_mod, "bundle", bundle)
    rc = main(["bundle", "MobileNetV3_small_ssld", "--app", "tflite-task", "-o", str(blocker)])
    err = capsys.readouterr().err
    _one_line_error(rc, err)
    assert "cannot use" in err and str(blocker) in err


def test_bundle_into_a_read_only_dir(tmp_path, capsys, monkeypatch):
    """A read-only -o (EACCES for a user; CI runs as root, where chmod does not stop writes, so the
    bundle step raises what the kernel would)."""
    import edge_kit.bundle as bundle_mod

    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)

    def bundle(*a, out_dir, **k):
        raise PermissionError(13, "Permission denied", str(Path(out_dir, "app")))

    monkeypatch.setattr(bundle_mod, "bundle", bundle)
    rc = main(["bundle", "MobileNetV3_small_ssld", "--app", "tflite-task", "-o", str(ro)])
    err = capsys.readouterr().err
    _one_line_error(rc, err)
    assert "Permission denied" in err and str(ro) in err


def test_tool_child_dies_with_its_parent(tmp_path):
    """kill -9 of edgekit must not leave its tool child (Opt, onnx2tf...) running."""
    pidfile = tmp_path / "child.pid"
    parent_code = (
        "import subprocess, sys, time\n"
        "from edge_kit.childproc import die_with_parent\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], preexec_fn=die_with_parent())\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", parent_code], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 30
    while not (pidfile.exists() and pidfile.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)


def test_isolated_tools_use_die_with_parent():
    import inspect

    import android_runner.simulator.tools as tools
    import converters.isolate as isolate

    assert "die_with_parent()" in inspect.getsource(isolate.run_isolated)
    assert "die_with_parent()" in inspect.getsource(tools)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_device_sim_sigterm_removes_its_sandbox(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "edge_kit.cli", "device-sim", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    line = proc.stdout.readline()
    assert "listening" in line
    assert list(tmp_path.glob("edgekit-devsim-*"))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert list(tmp_path.glob("edgekit-devsim-*")) == []


def _subcommands() -> list[str]:
    import argparse

    from edge_kit.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _subcommands())  # every command, also ones added later
def test_every_help_page_has_a_description_and_an_example(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    body = out.split("\n\n")
    assert len(body) >= 3 and "examples:" in out and f"edgekit {command}" in out.split("examples:")[1]


def test_convert_heading_counts_what_it_lists_and_json(tiny_paddle_model, tmp_path):
    import json

    # its own empty cache: with the suite's shared one, an earlier test's ONNX is reused and no stage runs
    cold = {"EDGEKIT_CACHE": str(tmp_path / "cache")}
    r = run_cli("convert", "--paddle-model", str(tiny_paddle_model), "--to", "onnx", "-o", str(tmp_path / "out"),
                env=cold)
    lines = r.stdout.strip().splitlines()
    rows = [ln for ln in lines[1:] if ln.startswith("  ")]  # the reference's row, then one per artifact
    assert lines[-1].startswith("time: ")  # and a last line with the stage times
    assert r.returncode == 0 and lines[0].endswith(f"the reference and {len(rows) - 1} artifact(s) in {tmp_path / 'out'}")
    # each stage says when it starts and how long it took; no tool's own log lines in between
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert any(ln.endswith("onnx: paddle2onnx (opset 17)") for ln in err), r.stderr
    assert any(" onnx: done after " in ln for ln in err), r.stderr
    assert all(ln.startswith(("[", "edgekit")) for ln in err), r.stderr
    r = run_cli("convert", "--paddle-model", str(tiny_paddle_model), "--to", "onnx", "--json", env=cold)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and [a["format"] for a in doc["artifacts"]] == ["paddle", "onnx"]
    assert doc["artifacts"][1]["parity"]["status"] == "passed"


def test_inspect_of_an_unknown_file_names_every_suffix_the_formats_table_knows(tmp_path, capsys):
    from edge_kit import formats

    f = tmp_path / "model.weights"
    f.write_bytes(b"\0" * 16)
    rc = main(["inspect", str(f)])
    err = capsys.readouterr().err
    _one_line_error(rc, err)
    for sfx in (s for row in formats.FORMATS for s in row.suffixes):  # .ort and .engine were missing
        assert sfx in err, (sfx, err)


def test_litert_info_line_stays_off_stderr(tiny_tflite):
    """`edgekit convert` printed LiteRT's 'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.' between
    its stage lines (the parity check loads the file in-process). Fresh processes: LiteRT says it once."""
    load = ("from edge_kit.runtimes import open_runtime; import sys; "
            f"r = open_runtime('tflite', {str(tiny_tflite)!r}, 1); r.invoke(); print('loaded', file=sys.stderr)")
    bare = ("from ai_edge_litert.interpreter import Interpreter; "
            f"Interpreter(model_path={str(tiny_tflite)!r}).allocate_tensors()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ours, raw = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                                timeout=120) for code in (load, bare))
    assert "XNNPACK" in raw.stderr   # the line this guards against does appear with a bare interpreter
    assert ours.returncode == 0 and ours.stderr.strip() == "loaded", ours.stderr


def test_inspect_json(tiny_tflite, capsys, tmp_path):
    import json

    assert main(["inspect", str(tiny_tflite), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sha256_matches_manifest"] is True and doc["bytes"] == tiny_tflite.stat().st_size
    assert doc["manifest"]["format"] == "tflite"
    bad = tmp_path / tiny_tflite.name   # a manifest that recorded other bytes: the check says so
    bad.write_bytes(tiny_tflite.read_bytes())
    manifest = json.loads(Path(str(tiny_tflite) + ".manifest.json").read_text())
    Path(str(bad) + ".manifest.json").write_text(json.dumps(dict(manifest, sha256="0" * 64)))
    assert main(["inspect", str(bad), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["sha256_matches_manifest"] is False
