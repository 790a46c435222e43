"""Images from disk, preprocessed as a manifest says, and calibration sets for int8.

A calibration set is a folder of images (searched recursively; each is resized/cropped and normalized
exactly as the artifact's manifest `preprocess` says) or a `.npy` of already-preprocessed inputs
(N, C, H, W) float32. Nothing is downloaded and nothing is made up: a missing, unreadable or too small
set is a one-line error. (`bench` times int8 cells on edgekit's own generated images, which is labelled
as such in the manifest: latency does not depend on what the calibration images show.)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from edge_kit.errors import EdgekitError
from edge_kit.zoo.registry import Preprocess

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MIN_CALIBRATION = 8      # fewer images give activation ranges that depend on which few were picked
MAX_CALIBRATION = 200    # PTQ statistics settle long before this; more only costs time
BUILTIN = "builtin"      # edgekit's generated images (bench uses them; latency does not care)


class DatasetError(EdgekitError):
    pass


def preprocess_from_manifest(pre: dict) -> Preprocess:
    return Preprocess(resize=tuple(pre["resize_hw"]), resize_short=pre.get("resize_short"),
                      mean=tuple(pre["mean"]), std=tuple(pre["std"]), channel_order=pre.get("channel_order", "RGB"),
                      scale=pre.get("scale", 1.0 / 255.0))


def load_image(path: Path, pre: Preprocess) -> np.ndarray:
    """One image file -> HxWx3 uint8 RGB at the network's size: resize the short side and centre-crop
    when the preprocessing says so (classifiers), else resize to the network size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            h, w = pre.resize
            if pre.resize_short:
                s = pre.resize_short / min(im.size)
                im = im.resize((max(w, round(im.size[0] * s)), max(h, round(im.size[1] * s))), Image.BILINEAR)
                left, top = (im.size[0] - w) // 2, (im.size[1] - h) // 2
                im = im.crop((left, top, left + w, top + h))
            elif im.size != (w, h):
                im = im.resize((w, h), Image.BILINEAR)
            return np.asarray(im, np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise DatasetError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None


def load_images(paths: list[Path], pre: Preprocess) -> np.ndarray:
    """Image files -> NCHW float32 network inputs."""
    from edge_kit.images import preprocess

    return preprocess(np.stack([load_image(p, pre) for p in paths]), pre)


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


@dataclass
class Calibration:
    data: np.ndarray          # (N, C, H, W) float32, preprocessed
    description: dict         # what went into the manifest: source, count, sha256

    @property
    def sha256(self) -> str:
        return self.description["sha256"]


def load_calibration(path: Optional[str], input_shape: tuple, pre: Preprocess) -> Calibration:
    """PATH (folder of images or .npy) -> preprocessed calibration inputs, checked against the input shape."""
    if not path:
        raise DatasetError("int8 needs a calibration set: --calib DIR (images, preprocessed as the manifest says) "
                           "or --calib FILE.npy (N, C, H, W preprocessed inputs); nothing is downloaded")
    _, c, h, w = (int(d) for d in input_shape)
    if path == BUILTIN:
        from edge_kit.images import natural_images, preprocess

        data = preprocess(natural_images(32, h, w, seed=11), pre)
        return _described(data, {"source": "edgekit's generated natural-looking images (edge_kit.images, seed 11)",
                                 "warning": "not real data: fine for latency, not for accuracy"})
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"calibration set {path} does not exist")
    if p.is_dir():
        files = image_files(p)
        if len(files) < MIN_CALIBRATION:
            raise DatasetError(f"calibration folder {path} has {len(files)} image(s); int8 needs at least "
                               f"{MIN_CALIBRATION} ({', '.join(IMAGE_SUFFIXES)})")
        if len(files) > MAX_CALIBRATION:  # an even spread over the sorted list, not just the first folder
            files = [files[i] for i in np.linspace(0, len(files) - 1, MAX_CALIBRATION).round().astype(int)]
        data = load_images(files, pre)
        return _described(data, {"source": str(p.resolve()), "kind": "image folder", "files": len(files)})
    if p.suffix != ".npy":
        raise DatasetError(f"calibration set {path}: give a folder of images or a .npy of preprocessed inputs")
    try:
        data = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .npy ({exc})") from None
    if data.ndim != 4 or tuple(data.shape[1:]) != (c, h, w):
        raise DatasetError(f"{path} has shape {list(data.shape)}; the model takes (N, {c}, {h}, {w}) preprocessed "
                           "inputs (NCHW, normalized as the manifest's preprocess says)")
    if len(data) < MIN_CALIBRATION:
        raise DatasetError(f"{path} holds {len(data)} input(s); int8 needs at least {MIN_CALIBRATION}")
    if not np.issubdtype(data.dtype, np.floating) or not np.isfinite(data).all():
        raise DatasetError(f"{path}: inputs must be finite floats (dtype {data.dtype})")
    data = data[:MAX_CALIBRATION].astype(np.float32)
    return _described(data, {"source": str(p.resolve()), "kind": "npy"})


def _described(data: np.ndarray, info: dict) -> Calibration:
    data = np.ascontiguousarray(data, np.float32)
    return Calibration(data, {**info, "count": int(len(data)),
                              "sha256": hashlib.sha256(data.tobytes()).hexdigest()})
