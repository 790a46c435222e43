"""Segmentation outputs on the host: logits -> label map, and how much two label maps agree."""
from __future__ import annotations

import numpy as np

from edge_kit.errors import ParityError


def label_map(logits: np.ndarray) -> np.ndarray:
    """[N, C, H, W] (or [C, H, W]) logits at input resolution -> int32 labels [N, H, W].

    Same as the in-graph postprocess (argmax over channels; ties go to the lowest class, as in
    paddle.argmax). Logits from an NHWC runtime must be transposed to NCHW first."""
    logits = np.asarray(logits)
    if logits.ndim == 3:
        logits = logits[None]
    if logits.ndim != 4:
        raise ParityError(f"segmentation logits must be [N,C,H,W], got shape {logits.shape}")
    return np.argmax(logits, axis=1).astype(np.int32)


def pixel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of pixels on which two label maps agree (1.0 = identical)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ParityError(f"label maps differ in shape: {a.shape} vs {b.shape}")
    if a.size == 0:
        raise ParityError("label maps are empty")
    return float(np.mean(a == b))
