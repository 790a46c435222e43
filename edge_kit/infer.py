"""Run an artifact on this machine on a batch of inputs, one image at a time (the artifacts are batch 1).

Used by the parity check. Each runtime is loaded lazily; an artifact that cannot run here
(an ARM or OpenCL .nb) raises CannotRunHere.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_kit.errors import EdgekitError


class CannotRunHere(EdgekitError):
    pass


def _per_image(run_one, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    n = inputs[0].shape[0]
    return [run_one([x[b:b + 1] for x in inputs]) for b in range(n)]


def run_paddlelite(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    config = MobileConfig()
    config.set_model_from_file(str(path))
    # The wheel's MobileConfig exposes no thread setting: x86 Lite runs with its default (1 thread here).
    predictor = create_paddle_predictor(config)

    def one(xs):
        for i, x in enumerate(xs):
            predictor.get_input(i).from_numpy(np.ascontiguousarray(x))
        predictor.run()
        return [predictor.get_output(j).numpy().copy() for j in range(len(predictor.get_output_names()))]

    return _per_image(one, inputs)


def run_onnx(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return _per_image(lambda xs: sess.run(None, dict(zip(names, xs))), inputs)


def run_onnx_fp16_weights(path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    """The ONNX model with every float initializer rounded to fp16 and back, run in fp32."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            t.CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), t.name))
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return _per_image(lambda xs: sess.run(None, dict(zip(names, xs))), inputs)


def run_tflite(path: Path, inputs: list[np.ndarray], threads: int = 1) -> list[list[np.ndarray]]:
    """Inputs arrive NCHW like the Paddle reference; 4-D inputs are fed NHWC, as the file expects."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path), num_threads=threads)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()

    def one(xs):
        for d, x in zip(ins, xs):
            if x.ndim == 4 and tuple(d["shape"]) != x.shape:
                x = x.transpose(0, 2, 3, 1)
            interp.set_tensor(d["index"], np.ascontiguousarray(x.astype(d["dtype"])))
        interp.invoke()
        return [interp.get_tensor(d["index"]).copy() for d in outs]

    return _per_image(one, inputs)


RUNNERS = {"paddlelite": run_paddlelite, "onnx": run_onnx, "tflite": run_tflite}


def run_artifact(fmt: str, target: str, path: Path, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    if fmt == "paddlelite" and target != "x86":
        raise CannotRunHere(f"this {target} .nb holds {target.upper()} kernels and cannot run on this x86 machine")
    if fmt not in RUNNERS:
        raise CannotRunHere(f"no host runtime for {fmt}")
    return RUNNERS[fmt](Path(path), inputs)
