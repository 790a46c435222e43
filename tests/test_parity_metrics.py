"""edge_kit.parity.tensor_metrics: streamed over chunks, it must give what whole-array float64 gives."""
import numpy as np
import pytest

from edge_kit.parity import compare, tensor_metrics


def _whole(ref, got):
    r, g = np.asarray(ref, np.float64).ravel(), np.asarray(got, np.float64).ravel()
    diff = np.abs(r - g)
    return {"max_abs": diff.max(), "mean_abs": diff.mean(), "cosine": r @ g / (np.linalg.norm(r) * np.linalg.norm(g)),
            "ref_max_abs": np.abs(r).max()}


def test_strided_views_and_pieces_match_whole_array_float64():
    rng = np.random.default_rng(3)
    ref = rng.standard_normal((3, 5, 70, 90)).astype(np.float32)  # 94,500 values: more than one 64k chunk
    got_nhwc = np.ascontiguousarray((ref + rng.standard_normal(ref.shape).astype(np.float32) * 1e-3)
                                    .transpose(0, 2, 3, 1))
    got = got_nhwc.transpose(0, 3, 1, 2)  # a strided view, as _align makes of TFLite's NHWC outputs
    want = _whole(ref, got)
    for m in (tensor_metrics(ref, got), tensor_metrics(list(ref), list(got))):
        for key, value in want.items():
            assert m[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_nan_and_zero_cases():
    ref = np.ones((2, 70000), np.float32)
    bad = ref.copy()
    bad[1, 69999] = np.nan  # in the last chunk: a max() that drops NaN would hide it
    m = tensor_metrics(ref, bad)
    assert np.isnan(m["max_abs"]) and np.isnan(m["cosine"])
    assert tensor_metrics(np.zeros(4), np.zeros(4))["cosine"] == 1.0
    assert tensor_metrics(np.zeros(4), np.ones(4))["cosine"] == 0.0
    with pytest.raises(ValueError):
        tensor_metrics(np.zeros(4), np.zeros(5))


def test_compare_fails_a_segmenter_whose_logits_drift():
    rng = np.random.default_rng(0)
    ref = [[rng.standard_normal((1, 4, 32, 32)).astype(np.float32)] for _ in range(2)]
    close = [[r[0] + 1e-6] for r in ref]
    far = [[r[0] + rng.standard_normal(r[0].shape).astype(np.float32) * 0.05] for r in ref]
    assert compare("semantic_segmentation", "fp32", ref, close, graph="raw")["status"] == "passed"
    assert compare("semantic_segmentation", "fp32", ref, far, graph="raw")["status"] == "failed"
