"""Inputs as a runtime wants them: matched to its input names, NCHW -> NHWC when the file says so,
quantized for an int8-I/O file; quantized outputs back to real values."""
from __future__ import annotations

from typing import Mapping, Sequence, Union

import numpy as np

Inputs = Union[Sequence[np.ndarray], Mapping[str, np.ndarray]]


def fit(x: np.ndarray, shape, dtype) -> np.ndarray:
    """x as the runtime wants it: NCHW -> NHWC when that is what the declared shape says, then dtype."""
    shape = tuple(int(d) for d in shape)
    if x.ndim == 4 and x.shape != shape and x.transpose(0, 2, 3, 1).shape == shape:
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x.astype(dtype, copy=False))


def match(names: list[str], inputs: Inputs) -> list[np.ndarray]:
    """Inputs in the runtime's order: by position for a sequence; for a mapping by exact name, then by a
    runtime name containing the given one (onnx2tf decorates "x" as "serving_default_x:0"), then by
    position."""
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


def quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float input to an int8/uint8 tensor (an int8-I/O file): q = round(x / scale) + zero_point, as an
    app would do with the scale/zero-point in the manifest. Anything else passes through."""
    dtype = np.dtype(detail["dtype"])
    scale, zero = detail.get("quantization", (0.0, 0))
    if dtype.kind not in "iu" or not scale or not np.issubdtype(np.asarray(x).dtype, np.floating):
        return x
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)


def dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    """Quantized output back to real values (scale * (q - zero_point)), so parity compares like with like."""
    scale, zero = detail.get("quantization", (0.0, 0))
    if np.dtype(detail["dtype"]).kind not in "iu" or not scale:
        return y
    return (scale * (y.astype(np.float32) - zero)).astype(np.float32)
