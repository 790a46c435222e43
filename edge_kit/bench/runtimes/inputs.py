"""Benchmark inputs from an artifact manifest's input spec, filled with natural-looking images.

Latency of most vision nets does not depend on pixel values, but a few ops do (NMS, dynamic shapes,
denormals on all-zero input), so inputs look like the parity data rather than zeros or noise.
"""
from __future__ import annotations

import numpy as np

from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact


def _image_tensor(model: str, n: int, c: int, h: int, w: int) -> np.ndarray:
    from edge_kit.images import natural_images, preprocess
    from edge_kit.zoo.registry import IMAGENET_MEAN, IMAGENET_STD, Preprocess, all_models

    pre = next((s.preprocess for s in all_models() if s.name == model), None)
    if pre is None or tuple(pre.resize) != (h, w):
        pre = Preprocess(resize=(h, w), resize_short=None, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    x = preprocess(natural_images(n, h, w, seed=0), pre)  # NCHW
    return x if c == 3 else np.random.default_rng(0).standard_normal((n, c, h, w)).astype(np.float32)


def make_inputs(artifact: Artifact) -> dict[str, np.ndarray]:
    specs = artifact.manifest.get("inputs") or []
    if not specs:
        raise EdgekitError(f"{artifact.path}: manifest lists no inputs; re-convert the model")
    image_hw = (32, 32)
    out = {}
    for spec in specs:
        name, dtype = spec["name"], np.dtype(spec.get("dtype", "float32"))
        shape = [1 if (d is None or int(d) < 0) else int(d) for d in spec["shape"]]
        layout = (spec.get("layout") or "NCHW").upper()
        if len(shape) == 4:
            n, c, h, w = (shape[0], shape[3], shape[1], shape[2]) if layout == "NHWC" else shape
            image_hw = (h, w)
            x = _image_tensor(artifact.manifest.get("model", ""), n, c, h, w)
            x = x.transpose(0, 2, 3, 1) if layout == "NHWC" else x
        elif name == "im_shape":  # detection programs take the network input size...
            x = np.tile(np.asarray(image_hw, np.float32), (shape[0], 1))
        elif name == "scale_factor":  # ...and the resize factor of the original image
            x = np.ones(shape, np.float32)
        else:
            x = np.random.default_rng(0).standard_normal(shape)
        out[name] = np.ascontiguousarray(x.astype(dtype))
    return out
