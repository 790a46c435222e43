"""One runtime layer for everything edgekit runs on this machine, in the shape of Polygraphy's backends.

Per runtime (a row of edge_kit.formats.RUNTIMES) one module here with one `HostRuntime` subclass:

    rt = open_runtime("tflite", "m.tflite", threads=2)   # imports the runtime lazily, loads the file
    rt.io()                      # ([TensorSpec(name, shape, dtype)], [...]) as the file declares them
    rt.infer({"x": img})         # {output name: array}, inputs matched by name (or given by position)
    rt.feed(inputs); rt.invoke() # what a benchmark times: the runtime's own call, inputs already in place
    rt.timed(50)                 # 50 invokes, ms each

The parity check (edge_kit.infer), the Paddle reference and the benchmarks (edge_kit.bench.runtimes)
all go through it, so an artifact is set up the same way when it is verified and when it is timed.
A 4-D NCHW input is transposed when the file wants NHWC; int8-I/O files get quantized inputs and
dequantized outputs (edge_kit.runtimes.tensors).
"""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Callable, NamedTuple, Union

import numpy as np

from edge_kit import formats
from edge_kit.errors import EdgekitError
from edge_kit.runtimes.tensors import Inputs


class BackendError(EdgekitError):
    """A runtime could not load or run an artifact."""


class TensorSpec(NamedTuple):
    name: str
    shape: tuple
    dtype: str


class HostRuntime:
    """Subclasses set `name`, implement `_load()`, `io()`, `feed()` and `outputs()`; `_load` sets
    `self.invoke`. Construction is cheap (no runtime import); `load()` does the work, once."""

    name = ""

    def __init__(self, model: Union[Path, str, bytes], threads: int = 1, options: dict | None = None):
        if threads < 1:
            raise EdgekitError(f"threads must be >= 1, got {threads}")
        fixed = formats.runtime(self.name).host_threads
        if fixed is not None and threads != fixed:
            raise BackendError(f"{self.name}: the host runtime cannot set a thread count; only --threads "
                               f"{fixed} is measured on the host")
        self.model = model if isinstance(model, bytes) else Path(model)
        self.threads, self.options = threads, dict(options or {})
        self.invoke: Callable[[], object] = self._not_fed
        self._loaded = False

    def _not_fed(self):
        raise RuntimeError("feed() the runtime before invoking it")

    def load(self) -> "HostRuntime":
        if not self._loaded:
            self._load()
            self._loaded = True
        return self

    def _load(self) -> None:
        raise NotImplementedError

    def io(self) -> tuple[list[TensorSpec], list[TensorSpec]]:
        raise NotImplementedError

    def feed(self, inputs: Inputs) -> None:
        raise NotImplementedError

    def outputs(self) -> dict[str, np.ndarray]:
        """The last invoke's outputs by name, in the file's output order (copies)."""
        raise NotImplementedError

    def infer(self, inputs: Inputs) -> dict[str, np.ndarray]:
        self.feed(inputs)
        self.invoke()
        return self.outputs()

    def __call__(self, inputs: Inputs) -> list[np.ndarray]:
        """Positional outputs: what the parity check compares with the reference's list."""
        return list(self.infer(inputs).values())

    def timed(self, n: int) -> list[float]:
        """n runs; each sample (ms) is the runtime's invoke alone."""
        invoke, clock, out = self.invoke, time.perf_counter_ns, []
        append = out.append
        for _ in range(n):
            t0 = clock()
            invoke()
            append(clock() - t0)
        return [ns / 1e6 for ns in out]

    def close(self) -> None:
        self.invoke = self._not_fed


def runtime_class(name: str) -> type[HostRuntime]:
    """The runtime's class, its module imported now (Paddle and TensorFlow-ish imports cost seconds)."""
    if name not in formats.HOST_RUNTIMES:
        why = formats.runtime(name).why_not_here if name in formats.RUNTIME_NAMES else ""
        raise EdgekitError(f"no host runtime {name!r}{f' ({why})' if why else ''}; "
                           f"choose from {', '.join(formats.HOST_RUNTIMES)}")
    module, cls = formats.runtime(name).host.split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as err:
        raise BackendError(f"{name}: runtime not installed ({err})") from err


def open_runtime(name: str, model: Union[Path, str, bytes], threads: int = 1,
                 options: dict | None = None) -> HostRuntime:
    """A loaded runtime on one file. Load errors of any kind (runtimes raise anything from RuntimeError
    to pybind11 errors) become BackendError naming the file."""
    rt = runtime_class(name)(model, threads, options)
    try:
        return rt.load()
    except EdgekitError:
        raise
    except Exception as err:
        shown = "<in-memory model>" if isinstance(model, bytes) else model
        raise BackendError(f"{name}: cannot load {shown}: {err}") from err


def per_image(rt: HostRuntime, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Run a batch one image at a time (edgekit's artifacts are batch 1): per image, positional outputs."""
    n = inputs[0].shape[0]
    return [rt([x[b:b + 1] for x in inputs]) for b in range(n)]
