"""Natural-looking test and calibration images, generated offline and deterministically.

Uniform noise is a poor parity input: it excites every channel equally and hides mistakes in
padding, pooling and resizing. These images have what photos have: smooth illumination gradients,
solid objects with edges (ellipses, rectangles, polygons), a horizon, fine texture and mild blur.
Detection models see distinct objects, segmentation models see regions.
"""
from __future__ import annotations

import numpy as np

from edge_kit.zoo.registry import Preprocess


def _blur(img: np.ndarray, passes: int = 2) -> np.ndarray:
    # A separable [1 2 1]/4 box blur: softens aliased shape edges like a camera lens would.
    out = img.astype(np.float32)
    for _ in range(passes):
        out = (np.roll(out, 1, 0) + 2 * out + np.roll(out, -1, 0)) / 4
        out = (np.roll(out, 1, 1) + 2 * out + np.roll(out, -1, 1)) / 4
    return out


def natural_image(height: int, width: int, seed: int) -> np.ndarray:
    """One HxWx3 uint8 RGB image."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy /= height
    xx /= width
    # Sky/ground split with two colour gradients.
    horizon = rng.uniform(0.3, 0.7)
    top, bottom = rng.uniform(0, 255, (2, 3)), rng.uniform(0, 255, (2, 3))
    img = np.where((yy < horizon)[..., None],
                   top[0] + (top[1] - top[0]) * yy[..., None],
                   bottom[0] + (bottom[1] - bottom[0]) * xx[..., None])
    # Solid objects with hard edges.
    for _ in range(int(rng.integers(3, 8))):
        color = rng.uniform(0, 255, 3)
        cy, cx = rng.uniform(0.1, 0.9, 2)
        ry, rx = rng.uniform(0.05, 0.3, 2)
        kind = rng.integers(0, 3)
        if kind == 0:
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        elif kind == 1:
            mask = (abs(yy - cy) < ry) & (abs(xx - cx) < rx)
        else:  # a triangle
            mask = (yy > cy - ry) & (abs(xx - cx) < (yy - (cy - ry)) * rx / (2 * ry))
        shade = 0.75 + 0.25 * (yy - cy) / max(ry, 1e-3)  # light from above
        img = np.where(mask[..., None], color * np.clip(shade, 0.5, 1.2)[..., None], img)
    # Texture: low-amplitude stripes and sensor noise.
    freq = rng.uniform(10, 60)
    img = img + 8 * np.sin(2 * np.pi * freq * (xx + yy * rng.uniform(-1, 1)))[..., None]
    img = _blur(img) + rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def natural_images(n: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """n images, NHWC uint8 RGB."""
    return np.stack([natural_image(height, width, seed * 1000 + i) for i in range(n)])


def preprocess(images: np.ndarray, pre: Preprocess) -> np.ndarray:
    """NHWC uint8 RGB images of the network's size -> NCHW float32 network input."""
    h, w = pre.resize
    if images.shape[1:3] != (h, w):
        raise ValueError(f"images are {images.shape[1:3]}, the network takes {(h, w)}; generate them at that size")
    x = images.astype(np.float32)
    if pre.channel_order == "BGR":
        x = x[..., ::-1]
    x = (x * pre.scale - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def sample_inputs(spec, n: int = 4, seed: int = 0) -> np.ndarray:
    """The fixed parity/calibration inputs for a zoo model: n natural images, preprocessed, NCHW."""
    _, _, h, w = spec.input_shape
    return preprocess(natural_images(n, h, w, seed), spec.preprocess)
