"""Run an artifact on this machine on a batch of inputs, one image at a time (the artifacts are batch 1).

Used by the parity check, through the same runtime layer the benchmarks time (edge_kit.runtimes).
An artifact that cannot run here (an ARM or OpenCL .nb, a TensorRT engine) raises CannotRunHere.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_kit import formats
from edge_kit.errors import EdgekitError
from edge_kit.runtimes import open_runtime, per_image


class CannotRunHere(EdgekitError):
    pass


def run_paddlelite(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    return per_image(open_runtime("paddlelite", path, threads), inputs)


def run_onnx(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    return per_image(open_runtime("onnxruntime", path, threads), inputs)


def run_onnx_fp16_weights(path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    """The ONNX model with every float initializer rounded to fp16 and back, run in fp32."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            t.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), t.name))
    return per_image(open_runtime("onnxruntime", model.SerializeToString()), inputs)


def run_tflite(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    """Inputs arrive NCHW like the Paddle reference; 4-D inputs are fed NHWC, as the file expects."""
    return per_image(open_runtime("tflite", path, threads), inputs)


def run_artifact(fmt: str, target: str, path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    return per_image(open_artifact(fmt, target, path), inputs)


def open_artifact(fmt: str, target: str, path: Path):
    """The loaded host runtime of an artifact (for many calls on one session, as `eval` makes them)."""
    return open_runtime(host_runtime(fmt, target), path)


def host_runtime(fmt: str, target: str) -> str:
    """The name of the host runtime that runs this format and target here; CannotRunHere if none does."""
    f, rt = (formats.fmt(fmt) if fmt in formats.FORMAT_NAMES else None), formats.runtime_for(fmt)
    if f is not None and len(f.targets) > 1 and target != f.host_target:
        raise CannotRunHere(f"this {target} {f.label} holds {str(target).upper()} kernels and cannot run on "
                            f"this x86 machine")
    # the Paddle program is the reference: the pipeline runs it, it is never compared with itself
    if rt is None or rt.host is None or fmt == "paddle":
        raise CannotRunHere(f"no host runtime for {fmt}")
    return rt.name
