"""Timing on the host: a bench `Runner` is one cell's runtime (edge_kit.runtimes) with its inputs in place.

A runner loads its artifact (timed as init), runs a first inference (timed separately: allocation,
lazy kernel selection) and then times only the runtime's own invoke in a loop. Inputs are set once
before timing, so the loop measures inference and not data copies edgekit makes.
"""
from __future__ import annotations

import time

from edge_kit import formats
from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact
from edge_kit.runtimes import BackendError, HostRuntime, open_runtime

HOST_BACKENDS = formats.HOST_RUNTIMES

__all__ = ["BackendError", "HOST_BACKENDS", "Runner", "open_runner"]


class Runner:
    def __init__(self, backend: str, artifact: Artifact, threads: int, options: dict | None = None):
        if threads < 1:
            raise EdgekitError(f"threads must be >= 1, got {threads}")
        self.backend, self.artifact, self.threads, self.options = backend, artifact, threads, dict(options or {})
        self.package = formats.runtime(backend).package  # distribution whose version is recorded
        self.runtime: HostRuntime | None = None
        self.init_ms: float | None = None
        self.first_ms: float | None = None

    def _runtime_options(self) -> dict:
        if self.backend == "paddle":   # the reference is a legacy .pdmodel; oneDNN only when asked
            return {"mkldnn": bool(self.options.get("mkldnn")), "legacy_executor": True}
        return {}

    def start(self) -> None:
        """Load (timed as init_ms), then the first inference (timed as first_ms)."""
        from edge_kit.bench.runtimes.inputs import make_inputs

        here, why = formats.runs_here(self.artifact.format, self.artifact.manifest.get("target"))
        if not here:
            raise BackendError(f"{self.backend} on the host cannot run {self.artifact.path}: {why[len('no: '):]}")
        self.inputs = make_inputs(self.artifact)
        t0 = time.perf_counter()   # init: the runtime's import and load, and setting the inputs
        self.runtime = open_runtime(self.backend, self.artifact.path, self.threads, self._runtime_options())
        self.runtime.feed(self.inputs)
        self.init_ms = (time.perf_counter() - t0) * 1e3
        self.activate()
        t0 = time.perf_counter()
        self.runtime.invoke()
        self.first_ms = (time.perf_counter() - t0) * 1e3

    def activate(self) -> None:
        """Called before each timed chunk: per-process runtime state a cell needs (e.g. OpenMP threads)."""

    def timed(self, n: int) -> list[float]:
        """n runs; each sample (ms) is the runtime's invoke alone."""
        return self.runtime.timed(n)

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
        self.runtime = None

    def description(self) -> dict:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version(self.package)
        except PackageNotFoundError:
            ver = None
        return {"runtime": self.package, "runtime_version": ver, "threads": self.threads, **self.options}


def open_runner(backend: str, artifact: Artifact, threads: int, options: dict | None = None) -> Runner:
    """A started runner (loaded, first inference done) for one cell."""
    runner = Runner(backend, artifact, threads, options)
    runner.start()
    return runner
