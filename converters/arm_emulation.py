"""Run TFLite files on real aarch64 kernels (tflite-runtime's ARM build: XNNPACK's NEON paths) on this x86
machine, under qemu user emulation, inside the arm64 userland scripts/setup_arm_env.sh builds.

binfmt_misc is not assumed, so the emulator is called explicitly:
    qemu-aarch64-static -cpu cortex-a76 -L ROOT ROOT/usr/bin/python3.11 arm_tflite_runner.py JOB.json
The runner (converters/arm_tflite_runner.py) writes the outputs; nothing here is timed: an emulated run's
speed says nothing about a phone.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converters.errors import EdgekitError

# The SD855's big cores are Cortex-A76 (qemu 7.2 models it: NEON, fp16 arithmetic, dot product).
DEFAULT_CPU = "cortex-a76"
RUNNER = Path(__file__).with_name("arm_tflite_runner.py")
SETUP_HINT = "run scripts/setup_arm_env.sh (needs qemu-user-static and mmdebstrap; network once, at install)"


class ArmEnvError(EdgekitError):
    """The emulated ARM environment is missing or broken."""


class ArmRunError(EdgekitError):
    """The emulated run failed (crash, timeout, or the runtime rejected the file)."""


def env_dir() -> Path:
    """EDGEKIT_ARM_ENV, else `arm64/` in the venv this Python runs from (where setup_arm_env.sh puts it)."""
    import sys

    return Path(os.environ.get("EDGEKIT_ARM_ENV") or Path(sys.prefix) / "arm64")


@dataclass
class ArmEnv:
    root: Path
    site: Path
    qemu: str
    info: dict  # the stamp: Debian suite and packages, qemu version, python/numpy/tflite_runtime versions

    @property
    def python(self) -> Path:
        return self.root / "usr" / "bin" / "python3.11"

    def describe(self, cpu: str) -> dict:
        return {"emulator": self.info.get("qemu", "qemu-aarch64-static"), "cpu": cpu,
                "runtime": f"tflite-runtime {self.info.get('tflite_runtime')} (aarch64 wheel, XNNPACK delegate)",
                "userland": f"Debian {self.info.get('debian_suite')} arm64, CPython {self.info.get('python')}, "
                            f"numpy {self.info.get('numpy')}", "env_id": self.info.get("id")}


def find_env(path: Path | None = None) -> ArmEnv:
    """The installed environment, or ArmEnvError saying what is missing and how to install it."""
    d = Path(path) if path else env_dir()
    if platform.machine() not in ("x86_64", "AMD64"):
        raise ArmEnvError(f"the ARM check emulates aarch64 on x86_64 hosts; this one is {platform.machine()}")
    stamp = d / "edgekit-arm-env.json"
    if not stamp.is_file():
        raise ArmEnvError(f"no ARM check environment in {d}: {SETUP_HINT}")
    info = json.loads(stamp.read_text())
    qemu = shutil.which("qemu-aarch64-static")
    if qemu is None:
        raise ArmEnvError(f"qemu-aarch64-static is not installed: {SETUP_HINT}")
    env = ArmEnv(d / info["root"], d / info["site"], qemu, info)
    if not env.python.is_file():
        raise ArmEnvError(f"the ARM check environment in {d} is incomplete (no {env.python}): {SETUP_HINT}")
    return env


def stage_model(src: Path, dst: Path) -> None:
    """Copy the file the emulated run reads, so it cannot change under the run and the path is plain.
    (The test that proves the ARM check is independent swaps this for a copy with a broken weight.)"""
    shutil.copyfile(src, dst)


def run_tflite(env: ArmEnv, files: list[Path], inputs: list[np.ndarray], cpu: str = DEFAULT_CPU,
               timeout: float = 3600) -> tuple[dict[Path, list[list[np.ndarray]]], dict]:
    """Run each TFLite file on `inputs` (NCHW batches, one image at a time) in ONE emulated process.
    Returns {file: [[out0, out1, ...] per image]} and what the runner reported (machine, CPU features)."""
    with tempfile.TemporaryDirectory(prefix="edgekit-arm-") as tmp:
        t = Path(tmp)
        np.savez(t / "inputs.npz", **{f"in{i}": np.ascontiguousarray(x, dtype=np.float32) for i, x in enumerate(inputs)})
        models = []
        for i, f in enumerate(files):
            stage_model(Path(f), t / f"model{i}.tflite")
            models.append({"tflite": str(t / f"model{i}.tflite"), "out": str(t / f"out{i}.npz")})
        (t / "job.json").write_text(json.dumps({"inputs": str(t / "inputs.npz"), "models": models, "threads": 1}))
        # -I (isolated): the host's PYTHON* variables and user site stay out; the runner adds the wheels.
        cmd = [env.qemu, "-cpu", cpu, "-L", str(env.root), str(env.python), "-I", str(RUNNER), str(env.site),
               str(t / "job.json")]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ArmRunError(f"the emulated aarch64 run did not finish within {timeout:.0f} s") from None
        if proc.returncode != 0:
            tail = " | ".join(ln for ln in proc.stderr.strip().splitlines()[-3:])
            how = f"crashed (signal {-proc.returncode})" if proc.returncode < 0 else f"exited {proc.returncode}"
            raise ArmRunError(f"the emulated aarch64 run {how}: {tail[:500]}")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        report["xnnpack"] = "XNNPACK delegate" in proc.stderr
        results = {}
        for f, m in zip(files, models):
            data = np.load(m["out"])
            n = inputs[0].shape[0]
            per_image = []
            for b in range(n):
                outs = sorted((k for k in data.files if k.startswith(f"img{b}_")), key=lambda k: int(k.split("out")[1]))
                per_image.append([data[k] for k in outs])
            results[Path(f)] = per_image
        return results, report
