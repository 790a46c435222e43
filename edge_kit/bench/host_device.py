"""The machine edgekit runs on as a benchmark Device.

Unlike a phone (whose own benchmark tool times each cell), the host can keep several runners loaded
and run them in turns; the harness uses `open_runner` for that and `measure` is the one-cell path the
Device protocol asks for.
"""
from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from edge_kit.bench.cell import BACKEND_ARTIFACT, Cell, Measurement
from edge_kit import formats
from edge_kit.bench.runtimes import HOST_BACKENDS, Runner, open_runner
from edge_kit.bench.stats import summarize
from edge_kit.manifest import Artifact

RUNTIME_PACKAGES = ("paddlepaddle", "paddlelite", "onnxruntime", "ai-edge-litert", "paddle2onnx", "onnx2tf",
                    "tensorflow", "numpy")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _cpu_model() -> str:
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith(("model name", "hardware", "processor\t: arm")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _git_revision() -> dict:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        # Installed (site-packages): git would walk up and report whatever repository holds the venv.
        return {"git_revision": None, "git_dirty": None}
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"git_revision": None, "git_dirty": None}
    if rev.returncode != 0:
        return {"git_revision": None, "git_dirty": None}
    return {"git_revision": rev.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}


def _versions() -> dict:
    out = {}
    for pkg in RUNTIME_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


@lru_cache(maxsize=1)
def describe_host() -> dict:
    from edge_kit import __version__

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    info = {
        "name": "host", "simulated": False, "cpu_model": _cpu_model(), "cores": os.cpu_count(),
        "cores_usable": affinity,
        "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),  # None in most VMs
        "cpu_max_khz": _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"),
        "os": f"{platform.system()} {platform.release()}", "machine": platform.machine(),
        "python": platform.python_version(), "runtimes": _versions(), "edgekit": __version__,
        **_git_revision(),
    }
    from edge_kit.bench.machine import host_machine_id

    info["machine_id"] = host_machine_id(info)  # results are "already measured" only on this machine
    return info


class HostDevice:
    name = "host"
    simulated = False
    interleaves = True  # harness: keep runners loaded and time cells in turns
    contained = True    # ...in a child process per model (edge_kit.bench.contained)

    def __init__(self, options: dict | None = None):
        self.options = dict(options or {})  # e.g. {"mkldnn": True} for Paddle Inference

    def describe(self) -> dict:
        return describe_host()

    def backends(self) -> list[str]:
        """Backends whose runtime is installed here (checked without importing it)."""
        found = []
        for b in HOST_BACKENDS:
            try:
                version(formats.runtime(b).package)
                found.append(b)
            except PackageNotFoundError:
                pass
        return found

    def supports(self, backend: str, precision: str, threads: int) -> bool:
        """Cells that exist here (edge_kit.formats): Paddle Inference runs the fp32 reference; Lite's x86
        kernels are fp32 and its Python light predictor cannot set threads; the ONNX file edgekit makes
        is fp32 (fp16 weights exist only as TFLite)."""
        rt = formats.runtime(backend)
        return precision in rt.host_precisions and rt.host_threads in (None, threads)

    def artifact_target(self, backend: str) -> str:
        return BACKEND_ARTIFACT[backend][1]  # paddlelite -> "x86": an arm .nb cannot run here

    def open_runner(self, cell: Cell, artifact: Artifact) -> Runner:
        opts = self.options if cell.backend == "paddle" else {}
        return open_runner(cell.backend, artifact, cell.threads, opts)

    def measure(self, cell: Cell, artifact: Artifact) -> Measurement:
        """One cell on its own: warmup, then `repeats` timed runs (or until min_secs have passed)."""
        runner = self.open_runner(cell, artifact)
        try:
            runner.timed(cell.warmup)
            samples = runner.timed(cell.repeats)
            while cell.min_secs and sum(samples) < cell.min_secs * 1e3:
                samples += runner.timed(max(1, cell.repeats // 5))
        finally:
            runner.close()
        s = summarize(samples)
        return Measurement(count=s["count"], min_ms=s["min_ms"], median_ms=s["median_ms"], mean_ms=s["mean_ms"],
                           p90_ms=s["p90_ms"], p99_ms=s["p99_ms"], max_ms=s["max_ms"], std_ms=s["std_ms"],
                           init_ms=runner.init_ms, first_ms=runner.first_ms, samples_ms=samples,
                           extra={"runner": runner.description(), "interleaved": False})

    def close(self) -> None:
        pass

