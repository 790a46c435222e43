"""Build a zoo model ready for inference: trained weights from a file, or deterministic ones."""
from __future__ import annotations

import os

from edge_kit.errors import ModelFileError

UNTRAINED = "untrained (seed {seed}): for latency and conversion checks"
CALIB_SEED = 1234
# Calibration images: 8 at 224x224, fewer for bigger inputs (never under 2) so a 608x608 detector
# calibrates in seconds. Two images alone are a poor sample: when both happen to be low-contrast,
# MobileNetV3's SE gates and hard-swish compound the mismatch and test logits reach std ~200.
CALIB_PIXELS = 8 * 224 * 224


def calibration_inputs(spec):
    """The fixed natural images (NCHW float32) untrained weights are calibrated on."""
    from edge_kit.images import sample_inputs

    _, _, h, w = spec.input_shape
    return sample_inputs(spec, n=max(2, min(8, CALIB_PIXELS // (h * w))), seed=CALIB_SEED)


def _load_state(path: str) -> dict:
    import paddle

    if not os.path.isfile(path):
        raise ModelFileError(f"weights file not found: {path}")
    try:
        state = paddle.load(path)
    except Exception as err:  # paddle raises assorted types (pickle, EOF, ValueError) for bad bytes
        raise ModelFileError(f"cannot read weights file {path}: {type(err).__name__}: {err}".splitlines()[0]) from None
    if not isinstance(state, dict) or not state:
        raise ModelFileError(f"weights file {path} holds no parameter dictionary (.pdparams expected)")
    return state


def _check_matches(layer, state: dict, path: str, model: str) -> None:
    """Name the first difference between the file and the network, rather than Paddle's warning."""
    expected = layer.state_dict()
    for name, tensor in expected.items():
        if name not in state:
            raise ModelFileError(f"weights file {path} does not fit {model}: missing {name!r}")
        got = list(getattr(state[name], "shape", []))
        if got != list(tensor.shape):
            raise ModelFileError(f"weights file {path} does not fit {model}: {name!r} has shape "
                                 f"{got}, the network needs {list(tensor.shape)}")
    extra = [k for k in state if k not in expected]
    if extra:
        raise ModelFileError(f"weights file {path} does not fit {model}: unexpected {extra[0]!r}")


def build_model(spec, weights: str | None = None, seed: int = 0, **kwargs):
    """spec.build(**kwargs) in eval mode, with weights loaded from `weights` (.pdparams) or, when
    None, deterministic untrained weights calibrated on the spec's natural sample images.

    The layer carries `edgekit_weights`, a one-line description manifests can record.
    """
    layer = spec.build(**kwargs)
    if weights is not None:
        path = os.fspath(weights)
        state = _load_state(path)
        _check_matches(layer, state, path, spec.name)
        layer.set_state_dict(state)
        layer.edgekit_weights = f"loaded from {path}"
    else:
        from edge_kit.zoo.init import init_weights

        calib = calibration_inputs(spec)
        init_weights(layer, seed, calib)
        # Task heads may need more than generic init (a detector's sparse objectness prior).
        after_init = getattr(layer, "after_init", None)
        if after_init is not None:
            after_init(calib)
        layer.edgekit_weights = UNTRAINED.format(seed=seed)
    layer.eval()
    return layer
