"""Deterministic "untrained" weights that still behave like a network.

Plain He-normal weights with default BN statistics (mean 0, var 1) make deep nets explode or
collapse and every image gets the same top-1 class, so parity checks on top-1/top-5 say nothing.
Here, after seeded random weights, one forward pass over a few natural calibration images sets
every layer's statistics from data, in graph order:

- BatchNorm: running mean/var := the batch mean/var of its input, so it truly normalises;
  its scale is random near 1 and its shift random near +1 scale (see BN_SHIFT), so a converter
  that drops either is caught by parity. A BN on pooled vectors (ASPP's image-pooling branch)
  sees too few samples per channel for per-channel statistics and gets one shared mean/var.
- Conv/Linear *with a bias* (not followed by BN by convention: SE gates, classifiers, heads):
  output centred per channel and scaled to a fixed overall std. Centring the classifier on the
  calibration mean removes the component all images share, so top-1 follows image content.

Generic over any Layer built from Conv2D / Conv2DTranspose / DeformConv2D / Linear / BatchNorm*.
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn
from paddle.nn.layer.conv import _ConvNd
from paddle.nn.layer.norm import _BatchNormBase

BIASED_OUT_STD = 0.3   # target std of biased conv outputs: SE gate logits, heads. Larger values let
#                        MobileNetV3's SE gates swing with image contrast and compound block after block.
LOGIT_STD = 2.0        # target std of Linear outputs (classifier logits) on the calibration set
MIN_SAMPLES_PER_CHANNEL = 16  # below this, per-channel statistics of a biased conv or BN are too noisy
# BN shift in units of its scale: the normalised pre-activation is ~N(BN_SHIFT, 1). At shift 0, a
# random ReLU network with BN is chaotic (mean-field theory of BN, Yang et al. 2019): every layer
# amplifies a small perturbation relative to the signal. Measured here with fp16-rounded weights:
# ~1.15-1.2x per layer, 0.3% error after the first blocks of YOLOv3-MobileNetV1 grew to 18% at its
# heads. Trained networks are not chaotic (fp16 costs them ~nothing), so untrained weights that
# are meant to stand in for them for fp16/int8 checks must not be either. A shift of 1 (about 84%
# of units active) brings the gain near 1: on held-out images, fp16-weight outputs moved 1.3x
# (ResNet50_vd, HRNet) to 29x (YOLOv3-MobileNetV1) less than at shift 0 (MobileNetV3, already
# stable, ~10% more), with no collapse: top-1 classes stay as varied as before or more.
BN_SHIFT = (0.8, 1.2)


def _is_bn(layer) -> bool:
    return isinstance(layer, (_BatchNormBase, nn.BatchNorm))


def _channel_last(layer) -> bool:
    fmt = getattr(layer, "_data_format", None) or getattr(layer, "_data_layout", None) or "NCHW"
    return str(fmt).endswith("C") and len(str(fmt)) > 2  # NHWC, NLC, NDHWC


def _set(param, array: np.ndarray) -> None:
    param.set_value(np.ascontiguousarray(array, dtype=np.float32).reshape(param.shape))


def _random_weights(layer: nn.Layer, rng: np.random.Generator) -> None:
    from paddle.vision.ops import DeformConv2D  # PP-YOLO's DCNv2: a Layer, not a _ConvNd, same weight layout

    for _, sub in layer.named_sublayers(include_self=True):
        if isinstance(sub, (_ConvNd, nn.Linear, DeformConv2D)):
            shape = list(sub.weight.shape)
            # Conv weight is [out, in/groups, k...], Linear weight is [in, out].
            fan_in = shape[0] if isinstance(sub, nn.Linear) else int(np.prod(shape[1:]))
            _set(sub.weight, rng.standard_normal(shape, dtype=np.float32) * np.sqrt(2.0 / fan_in))
            if sub.bias is not None:
                _set(sub.bias, np.zeros(sub.bias.shape, np.float32))
        elif _is_bn(sub):
            c = sub._mean.shape[0]
            scale = rng.uniform(0.7, 1.3, c) if sub.weight is not None else np.ones(c)
            if sub.weight is not None:
                _set(sub.weight, scale)
            if sub.bias is not None:
                _set(sub.bias, scale * rng.uniform(*BN_SHIFT, c))


def _bn_pre_hook(bn, inputs):
    if getattr(bn, "_edgekit_calibrated", False):  # a layer shared by several branches: first call wins
        return None
    bn._edgekit_calibrated = True
    x = inputs[0]
    axis = x.ndim - 1 if _channel_last(bn) else 1
    axes = [a for a in range(x.ndim) if a != axis]
    # Statistics in float64 numpy: exact enough to be reproducible, and paddle.var warns about
    # dtype promotion on every call.
    y = x.numpy().astype(np.float64)
    if y.size // y.shape[axis] < MIN_SAMPLES_PER_CHANNEL:
        # Pooled vectors: a channel's variance over two images is their difference squared, often
        # ~0, and dividing by it blows every other image up (measured: |mean|/std up to 2600 in
        # ASPP's pooling branch). One mean/var for the whole layer keeps the pattern across channels.
        c = y.shape[axis]
        mean, var = np.full(c, y.mean()), np.full(c, y.var())
    else:
        mean = y.mean(axis=tuple(axes))
        var = y.var(axis=tuple(axes))
    # Constant channels (dead ReLU, padding-only) have var 0: dividing by sqrt(eps) would blow
    # other images' activations up, so they get a floor tied to the layer's typical variance.
    floor = max(0.05 * float(np.median(var)), 1e-4)
    _set(bn._mean, mean)
    _set(bn._variance, np.maximum(var, floor))
    return None


def _biased_post_hook(target_std):
    def hook(layer, inputs, out):
        if getattr(layer, "_edgekit_calibrated", False):  # shared head: calibrate on its first call
            return None
        layer._edgekit_calibrated = True
        linear = isinstance(layer, nn.Linear)
        axis = out.ndim - 1 if (linear or _channel_last(layer)) else 1
        axes = [a for a in range(out.ndim) if a != axis]
        y = out.numpy().astype(np.float64)
        mean = y.mean(axis=tuple(axes))
        if not linear and y.size // y.shape[axis] < MIN_SAMPLES_PER_CHANNEL:
            # A conv on pooled vectors (SE gates): per-channel centring over a couple of images
            # would leave only their difference and amplify it; centre by one scalar instead so
            # the gate keeps its per-channel pattern.
            mean = np.full_like(mean, mean.mean())
        centred = y - np.expand_dims(mean, tuple(axes))
        std = float(centred.std())
        # One scalar per layer, not per channel: per-channel scaling over two calibration images
        # would flatten every logit to +-1 and hide the differences between classes.
        scale = target_std / std if std > 1e-12 else 1.0
        w = layer.weight.numpy().astype(np.float64)
        b = layer.bias.numpy().astype(np.float64)
        _set(layer.weight, w * scale)
        _set(layer.bias, (b - mean) * scale)
        return paddle.to_tensor((centred * scale).astype(np.float32))
    return hook


def init_weights(layer: nn.Layer, seed: int, calib: np.ndarray) -> nn.Layer:
    """Seeded random weights, then data-dependent calibration over `calib` (NCHW float32 batch).

    Same seed and calib -> bit-identical weights (on the same machine and thread count: the
    calibration reads activations computed by Paddle's CPU kernels).
    """
    paddle.seed(seed)
    _random_weights(layer, np.random.default_rng(seed))
    layer.eval()
    handles = []
    for _, sub in layer.named_sublayers(include_self=True):
        if _is_bn(sub):
            handles.append(sub.register_forward_pre_hook(_bn_pre_hook))
        elif isinstance(sub, (_ConvNd, nn.Linear)) and sub.bias is not None:
            target = LOGIT_STD if isinstance(sub, nn.Linear) else BIASED_OUT_STD
            handles.append(sub.register_forward_post_hook(_biased_post_hook(target)))
    try:
        with paddle.no_grad():
            layer(paddle.to_tensor(np.ascontiguousarray(calib, dtype=np.float32)))
    finally:
        for h in handles:
            h.remove()
        for _, sub in layer.named_sublayers(include_self=True):
            sub.__dict__.pop("_edgekit_calibrated", None)
    return layer
