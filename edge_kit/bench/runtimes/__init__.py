"""Host runtimes, one small module per backend (Polygraphy-style runners).

A runner loads its artifact (timed as init), runs a first inference (timed separately: allocation,
lazy kernel selection) and then times only the runtime's own invoke in a loop. Inputs are set once
before timing, so the loop measures inference and not data copies edgekit makes.
"""
from __future__ import annotations

import importlib
import time

from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact

# backend -> "module:class" (imported lazily: Paddle and TensorFlow-ish imports cost seconds)
RUNNERS = {
    "paddlelite": "edge_kit.bench.runtimes.paddlelite_runner:PaddleLiteRunner",
    "tflite": "edge_kit.bench.runtimes.litert_runner:LiteRTRunner",
    "onnxruntime": "edge_kit.bench.runtimes.onnxruntime_runner:OnnxRuntimeRunner",
    "paddle": "edge_kit.bench.runtimes.paddle_runner:PaddleInferenceRunner",
}
HOST_BACKENDS = tuple(RUNNERS)


class BackendError(EdgekitError):
    """A runtime could not load or run an artifact."""


class Runner:
    """Subclasses set `backend`, implement `_load()` (sets self._invoke, a zero-argument callable that
    runs the runtime once on inputs already in place) and optionally `activate()`/`close()`."""

    backend = ""
    package = ""  # distribution whose version is recorded

    def __init__(self, artifact: Artifact, threads: int, options: dict | None = None):
        if threads < 1:
            raise EdgekitError(f"threads must be >= 1, got {threads}")
        self.artifact, self.threads, self.options = artifact, threads, dict(options or {})
        self._invoke = None
        self.init_ms: float | None = None
        self.first_ms: float | None = None

    def start(self) -> None:
        """Load (timed as init_ms), then the first inference (timed as first_ms)."""
        from edge_kit.bench.runtimes.inputs import make_inputs

        self.inputs = make_inputs(self.artifact)
        t0 = time.perf_counter()
        try:
            self._load()
        except EdgekitError:
            raise
        except Exception as err:  # runtimes raise anything from RuntimeError to pybind11 errors
            raise BackendError(f"{self.backend}: cannot load {self.artifact.path}: {err}") from err
        self.init_ms = (time.perf_counter() - t0) * 1e3
        self.activate()
        t0 = time.perf_counter()
        self._invoke()
        self.first_ms = (time.perf_counter() - t0) * 1e3

    def activate(self) -> None:
        """Called before each timed chunk: per-process runtime state a cell needs (e.g. OpenMP threads)."""

    def timed(self, n: int) -> list[float]:
        """n runs; each sample (ms) is the runtime's invoke alone."""
        invoke, clock, out = self._invoke, time.perf_counter_ns, []
        append = out.append
        for _ in range(n):
            t0 = clock()
            invoke()
            append(clock() - t0)
        return [ns / 1e6 for ns in out]

    def close(self) -> None:
        self._invoke = None

    def description(self) -> dict:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version(self.package)
        except PackageNotFoundError:
            ver = None
        return {"runtime": self.package, "runtime_version": ver, "threads": self.threads, **self.options}


def runner_class(backend: str) -> type[Runner]:
    if backend not in RUNNERS:
        raise EdgekitError(f"unknown host backend {backend!r}; choose from {', '.join(RUNNERS)}")
    module, cls = RUNNERS[backend].split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as err:
        raise BackendError(f"{backend}: runtime not installed ({err})") from err


def open_runner(backend: str, artifact: Artifact, threads: int, options: dict | None = None) -> Runner:
    """A started runner (loaded, first inference done) for one cell."""
    runner = runner_class(backend)(artifact, threads, options)
    runner.start()
    return runner
