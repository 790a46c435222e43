"""Stand-ins for the Android benchmark binaries, run when a pushed file named benchmark_model (TFLite) or
benchmark_bin (Paddle-Lite) is executed on the simulated device.

Flags are checked here, the way the real tools check them; the model then really runs with the host
runtime in a child process (_toolrun.py), whose output is streamed back line by line. The first line
always says the device is simulated, so no number from here can pass for a Snapdragon figure.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from .filesystem import FsError
from edge_kit.childproc import die_with_parent

SIMULATED_BANNER = "EDGEKIT SIMULATED DEVICE: {tool} stand-in running on the host CPU, not an Android phone\n"
ELF_MAGIC = b"\x7fELF"
TOOL_TIMEOUT_S = 300

TFLITE_FLAGS = {  # name -> (type, default); TFLite's flag parser takes --name=value only
    "graph": (str, ""), "num_threads": (int, -1), "warmup_runs": (int, 1), "warmup_min_secs": (float, 0.5),
    "num_runs": (int, 50), "min_secs": (float, 1.0), "max_secs": (float, 150.0), "run_delay": (float, -1.0),
    "use_gpu": (bool, False), "use_xnnpack": (bool, True), "use_nnapi": (bool, False),
    "use_hexagon": (bool, False), "enable_op_profiling": (bool, False), "verbose": (bool, False),
    "report_peak_memory_footprint": (bool, False), "benchmark_name": (str, ""), "output_prefix": (str, ""),
    "input_layer": (str, ""), "input_layer_shape": (str, ""), "allow_fp16": (bool, False),
}
LITE_FLAGS = {  # gflags: --name=value, --name value, --bool / --nobool
    "optimized_model_file": (str, ""), "input_shape": (str, "1,3,224,224"), "backend": (str, "arm"),
    "threads": (int, 1), "power_mode": (int, 0), "warmup": (int, 10), "repeats": (int, 20),
    "run_delay": (float, -1.0), "result_path": (str, ""), "cpu_precision": (str, "fp32"),
    "enable_memory_profile": (bool, False), "enable_op_time_profile": (bool, False),
    "input_data_path": (str, ""), "show_output_elem": (bool, False),
}


class FlagError(Exception):
    pass


def _convert(kind, text):
    if kind is bool:
        if text.lower() in ("1", "true"):
            return True
        if text.lower() in ("0", "false"):
            return False
        raise ValueError(text)
    return kind(text)


def parse_tflite_flags(args: list[str]) -> dict:
    values = {k: d for k, (_, d) in TFLITE_FLAGS.items()}
    for a in args:
        name, eq, text = a.lstrip("-").partition("=")
        if not a.startswith("--") or name not in TFLITE_FLAGS or not eq:
            raise FlagError(f"ERROR: Unconsumed cmdline flags: {a}")
        try:
            values[name] = _convert(TFLITE_FLAGS[name][0], text)
        except ValueError:
            raise FlagError(f"ERROR: Failed to parse flag '{name}' against value '{text}'") from None
    return values


def parse_lite_flags(args: list[str]) -> dict:
    values = {k: d for k, (_, d) in LITE_FLAGS.items()}
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, text = a.lstrip("-").partition("=")
        kind = LITE_FLAGS.get(name, (None,))[0]
        if not a.startswith("-") or (kind is None and not (name.startswith("no") and
                                                          LITE_FLAGS.get(name[2:], (None,))[0] is bool)):
            raise FlagError(f"ERROR: unknown command line flag '{name}'")
        if kind is None:
            values[name[2:]] = False
        elif kind is bool and not eq:
            values[name] = True
        else:
            if not eq:
                i += 1
                if i >= len(args):
                    raise FlagError(f"ERROR: flag '{name}' is missing its argument")
                text = args[i]
            try:
                values[name] = _convert(kind, text)
            except ValueError:
                raise FlagError(f"ERROR: illegal value '{text}' specified for {kind.__name__} flag '{name}'") from None
        i += 1
    return values


def tflite_spec(args, fs, cwd):
    f = parse_tflite_flags(args)
    if not f["graph"]:
        raise FlagError("ERROR: Please specify the name of your TF Lite input file with --graph")
    if f["use_gpu"] or f["use_nnapi"] or f["use_hexagon"]:
        raise FlagError("ERROR: The simulated device has no GPU/NNAPI/Hexagon delegate; only CPU runs are simulated")
    host = _model(fs, f["graph"], cwd,
                  lambda p: f"ERROR: Could not open '{p}'.\nERROR: Failed to mmap model {p}\nERROR: Benchmarking failed.")
    return {**f, "kind": "tflite", "host_model": host, "device_model": f["graph"]}


def lite_spec(args, fs, cwd, props):
    f = parse_lite_flags(args)
    if not f["optimized_model_file"]:
        raise FlagError("ERROR: --optimized_model_file is required. Use --help for usage.")
    if f["backend"] not in ("arm", "x86"):
        raise FlagError(f"ERROR: backend '{f['backend']}' is not available on the simulated device (arm only)")
    host = _model(fs, f["optimized_model_file"], cwd,
                  lambda p: f"Check failed: IsFileExists(FLAGS_optimized_model_file): model file {p} not found")
    return {**f, "kind": "paddlelite", "host_model": host, "device_model": f["optimized_model_file"],
            "brand": props.get("ro.product.brand", ""), "device": props.get("ro.product.device", ""),
            "model": props.get("ro.product.model", "")}


def _model(fs, device_path, cwd, missing) -> str:
    try:
        host = fs.host(device_path, cwd)
    except FsError:
        host = None
    if host is None or not host.is_file():
        raise FlagError(missing(device_path))
    return str(host)


def run_tool(tool: str, host_exe, args: list[str], io, fs, props, cwd: str = "/") -> int:
    """Run a stand-in. Returns its exit code; output goes to io.out / io.err as it is produced."""
    with open(host_exe, "rb") as f:
        if f.read(4) != ELF_MAGIC:
            io.err(f"/system/bin/sh: {tool}: can't execute: Exec format error\n")
            return 126
    io.out(SIMULATED_BANNER.format(tool=tool))
    try:
        spec = tflite_spec(args, fs, cwd) if tool == "benchmark_model" else lite_spec(args, fs, cwd, props)
    except FlagError as e:
        io.err(f"{e}\n")
        return 1
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", GLOG_minloglevel="2")
    proc = subprocess.Popen([sys.executable, "-m", "android_runner.simulator._toolrun", json.dumps(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=die_with_parent())  # gone with the simulator, even after kill -9
    try:
        for line in iter(proc.stdout.readline, b""):
            io.out_bytes(line)
        proc.wait(timeout=TOOL_TIMEOUT_S)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0:
        tail = err[-1] if err else "no message"
        # a signal becomes 128+N, as an Android shell reports it
        rc = 128 - proc.returncode if proc.returncode < 0 else proc.returncode
        io.err(f"ERROR: {tool} stand-in failed (exit {rc}): {tail}\n")
        return rc
    return 0
