"""Run an artifact on this machine on a batch of inputs, one image at a time (the artifacts are batch 1).

Used by the parity check, through the same runtime sessions the benchmarks time (edge_kit.sessions).
An artifact that cannot run here (an ARM or OpenCL .nb) raises CannotRunHere.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_kit.errors import EdgekitError


class CannotRunHere(EdgekitError):
    pass


def _per_image(session, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    n = inputs[0].shape[0]
    return [session([x[b:b + 1] for x in inputs]) for b in range(n)]


def run_paddlelite(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    from edge_kit.sessions import PaddleLiteSession

    return _per_image(PaddleLiteSession(path), inputs)


def run_onnx(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    from edge_kit.sessions import OnnxRuntimeSession

    return _per_image(OnnxRuntimeSession(path, threads), inputs)


def run_onnx_fp16_weights(path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    """The ONNX model with every float initializer rounded to fp16 and back, run in fp32."""
    import onnx
    from onnx import numpy_helper

    from edge_kit.sessions import OnnxRuntimeSession

    model = onnx.load(str(path))
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            t.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), t.name))
    return _per_image(OnnxRuntimeSession(model.SerializeToString()), inputs)


def run_tflite(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    """Inputs arrive NCHW like the Paddle reference; 4-D inputs are fed NHWC, as the file expects."""
    from edge_kit.sessions import LiteRTSession

    return _per_image(LiteRTSession(path, threads), inputs)


RUNNERS = {"paddlelite": run_paddlelite, "onnx": run_onnx, "tflite": run_tflite}


def run_artifact(fmt: str, target: str, path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    if fmt == "paddlelite" and target != "x86":
        raise CannotRunHere(f"this {target} .nb holds {target.upper()} kernels and cannot run on this x86 machine")
    if fmt not in RUNNERS:
        raise CannotRunHere(f"no host runtime for {fmt}")
    return RUNNERS[fmt](Path(path), inputs)
