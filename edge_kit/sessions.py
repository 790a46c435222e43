"""One loader per host runtime, shared by the parity checks (edge_kit.infer) and the benchmark runners
(edge_kit.bench.runtimes), so an artifact is set up the same way when it is verified and when it is timed.

A session loads one artifact and takes inputs either by position (parity: the reference's input order) or
by name (benchmarks: the manifest's input names, which onnx2tf may have decorated, e.g. "x" ->
"serving_default_x:0"). A 4-D NCHW array is transposed when the file wants NHWC. `invoke` is the
runtime's own call with the inputs already in place: what a benchmark times, with nothing of edgekit's
around it.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Mapping, Sequence, Union

import numpy as np

Inputs = Union[Sequence[np.ndarray], Mapping[str, np.ndarray]]


def _fit(x: np.ndarray, shape, dtype) -> np.ndarray:
    """x as the runtime wants it: NCHW -> NHWC when that is what the declared shape says, then dtype."""
    shape = tuple(int(d) for d in shape)
    if x.ndim == 4 and x.shape != shape and x.transpose(0, 2, 3, 1).shape == shape:
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x.astype(dtype, copy=False))


def _match(names: list[str], inputs: Inputs) -> list[np.ndarray]:
    """Inputs in the runtime's order: by position for a sequence; for a mapping by exact name, then by a
    runtime name containing the given one, then by position."""
    if not isinstance(inputs, Mapping):
        return list(inputs)
    given, out = list(inputs.items()), []
    for i, name in enumerate(names):
        hit = inputs.get(name)
        if hit is None:
            hit = next((v for k, v in given if k in name), given[i][1] if i < len(given) else None)
        if hit is None:
            raise ValueError(f"no input given for {name!r}")
        out.append(hit)
    return out


class Session:
    """feed(inputs) then invoke(); outputs() copies the results out. Calling it does all three."""

    invoke: Callable[[], object]

    def feed(self, inputs: Inputs) -> None:
        raise NotImplementedError

    def outputs(self) -> list[np.ndarray]:
        raise NotImplementedError

    def __call__(self, inputs: Inputs) -> list[np.ndarray]:
        self.feed(inputs)
        self.invoke()
        return self.outputs()


class LiteRTSession(Session):
    def __init__(self, path: Path, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=str(path), num_threads=threads)
        self.interp.allocate_tensors()
        self._ins, self._outs = self.interp.get_input_details(), self.interp.get_output_details()
        self.invoke = self.interp.invoke

    def feed(self, inputs: Inputs) -> None:
        for d, x in zip(self._ins, _match([d["name"] for d in self._ins], inputs)):
            self.interp.set_tensor(d["index"], _fit(_quantize(x, d), d["shape"], d["dtype"]))

    def outputs(self) -> list[np.ndarray]:
        return [_dequantize(self.interp.get_tensor(d["index"]).copy(), d) for d in self._outs]


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float input to an int8/uint8 tensor (an int8-I/O file): q = round(x / scale) + zero_point, as an
    app would do with the scale/zero-point in the manifest. Anything else passes through."""
    dtype = np.dtype(detail["dtype"])
    scale, zero = detail.get("quantization", (0.0, 0))
    if dtype.kind not in "iu" or not scale or not np.issubdtype(np.asarray(x).dtype, np.floating):
        return x
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    """Quantized output back to real values (scale * (q - zero_point)), so parity compares like with like."""
    scale, zero = detail.get("quantization", (0.0, 0))
    if np.dtype(detail["dtype"]).kind not in "iu" or not scale:
        return y
    return (scale * (y.astype(np.float32) - zero)).astype(np.float32)


class OnnxRuntimeSession(Session):
    """`model` is a path or the serialized model bytes (the fp16-rounded-weight baseline is built in memory)."""

    def __init__(self, model: Union[Path, bytes], threads: int = 1):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1  # one image at a time: parallelism comes from intra-op threads
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.sess = ort.InferenceSession(model if isinstance(model, bytes) else str(model), opts,
                                         providers=["CPUExecutionProvider"])
        self._names = [i.name for i in self.sess.get_inputs()]
        self._result: list = []
        self.invoke = self._not_fed

    def _not_fed(self):
        raise RuntimeError("feed() the session before invoking it")

    def feed(self, inputs: Inputs) -> None:
        feed = {n: np.ascontiguousarray(x) for n, x in zip(self._names, _match(self._names, inputs))}
        run = functools.partial(self.sess.run, None, feed)

        def invoke():
            self._result = run()
        # A benchmark times `invoke`: keep it the runtime's call plus one assignment.
        self.invoke = invoke

    def outputs(self) -> list[np.ndarray]:
        return list(self._result)


class PaddleLiteSession(Session):
    """The light predictor on an x86 .nb. The wheel's MobileConfig has no thread setting (1 thread here)."""

    def __init__(self, path: Path):
        from paddlelite.lite import MobileConfig, create_paddle_predictor

        config = MobileConfig()
        config.set_model_from_file(str(path))
        self.predictor = create_paddle_predictor(config)
        self.invoke = self.predictor.run

    def feed(self, inputs: Inputs) -> None:
        names = list(self.predictor.get_input_names())
        for i, x in enumerate(_match(names, inputs)):
            self.predictor.get_input(i).from_numpy(np.ascontiguousarray(x))

    def outputs(self) -> list[np.ndarray]:
        return [self.predictor.get_output(j).numpy().copy() for j in range(len(self.predictor.get_output_names()))]
