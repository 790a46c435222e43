"""Detection and segmentation through the spine: task-aware parity, the converter fixes they needed."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import run_cli
from edge_kit.manifest import Artifact
from edge_kit.parity import _pair_outputs, compare
from edge_kit.postprocess.agreement import ap50, miou


def _dets(*rows):
    return np.asarray(rows, np.float32).reshape(-1, 6)


def test_ap50_and_miou_against_reference():
    ref = [_dets([1, 0.9, 10, 10, 50, 50], [2, 0.8, 60, 60, 90, 90])]
    assert ap50(ref, ref) == 1.0
    half = [_dets([1, 0.9, 10, 10, 50, 50])]                       # one of two boxes lost
    assert 0.45 < ap50(ref, half) < 0.55
    moved = [_dets([1, 0.9, 30, 30, 70, 70], [2, 0.8, 60, 60, 90, 90])]  # IoU < 0.5 for class 1
    assert ap50(ref, moved) == pytest.approx(0.5)
    a = np.zeros((4, 4), int)
    b = a.copy()
    b[0, 0] = 1
    assert miou(a, a) == 1.0 and miou(a, b) == pytest.approx((15 / 16 + 0) / 2)


def test_deploy_detection_parity_is_order_free_but_count_strict():
    ref = [[_dets([1, 0.9, 10, 10, 50, 50], [2, 0.8, 60, 60, 90, 90])]]
    swapped = [[ref[0][0][::-1].copy()]]
    assert compare("detection", "fp32", ref, swapped, graph="deploy")["status"] == "passed"
    missing = [[ref[0][0][:1].copy()]]
    result = compare("detection", "fp32", ref, missing, graph="deploy")
    assert result["status"] == "failed" and "detections_matched_images" in result["reason"]
    nothing = [[_dets()]]
    assert compare("detection", "fp32", nothing, nothing, graph="deploy")["status"] == "failed"  # no boxes: no proof


def test_outputs_paired_by_shape_when_a_converter_reorders_them():
    ref = [np.zeros((1, 255, 19, 19)), np.zeros((1, 255, 38, 38))]
    got = [np.zeros((1, 38, 38, 255)), np.zeros((1, 19, 19, 255))]   # TFLite: NHWC and another order
    assert [g.shape for g in _pair_outputs(ref, got)] == [(1, 19, 19, 255), (1, 38, 38, 255)]
    with pytest.raises(ValueError):
        _pair_outputs(ref, [np.zeros((1, 7)), np.zeros((1, 8))])


def test_exact_adaptive_pool_matches_paddle():
    import paddle

    from edge_kit.zoo.fastscnn import AdaptiveAvgPoolMatmul

    rng = np.random.default_rng(0)
    for hw, bins in (((16, 16), 6), ((16, 16), 3), ((17, 13), 5)):
        x = paddle.to_tensor(rng.normal(size=(1, 4, *hw)).astype("float32"))
        got = AdaptiveAvgPoolMatmul(bins, hw)(x).numpy()
        want = paddle.nn.AdaptiveAvgPool2D(bins)(x).numpy()
        assert np.abs(got - want).max() < 1e-6


LEAKY_NET = textwrap.dedent('''
    import os, sys
    os.environ["FLAGS_enable_pir_api"] = "0"
    import paddle
    class Net(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.conv = paddle.nn.Conv2D(3, 8, 3, padding=1)
        def forward(self, x):
            return paddle.nn.functional.leaky_relu(self.conv(x), 0.1)
    paddle.seed(1)
    net = Net(); net.eval()
    paddle.jit.save(net, os.path.join(sys.argv[1], "inference"),
                    input_spec=[paddle.static.InputSpec([1, 3, 32, 32], "float32", "image")])
''')


def test_leaky_relu_alpha_survives_onnx_export(tmp_path):
    """paddle2onnx 2.1.0 writes garbage alphas for Paddle 3.3 programs; the fix-up restores 0.1."""
    import onnx

    from edge_kit.convert import convert

    (tmp_path / "export.py").write_text(LEAKY_NET)
    model_dir = tmp_path / "leaky"
    model_dir.mkdir()
    subprocess.run([sys.executable, str(tmp_path / "export.py"), str(model_dir)], check=True, capture_output=True)
    arts = convert(paddle_model=str(model_dir), to=("onnx",), log=lambda m: None)
    art = next(a for a in arts if a.format == "onnx")
    [node] = [n for n in onnx.load(str(art.path)).graph.node if n.op_type == "LeakyRelu"]
    assert [a.f for a in node.attribute if a.name == "alpha"] == [pytest.approx(0.1)]
    assert art.ok and art.manifest["parity"]["metrics"]["outputs"][0]["cosine"] > 0.99999


@pytest.mark.slow
def test_segmenter_end_to_end(tmp_path):
    r = run_cli("convert", "FastSCNN", "--precision", "fp32,fp16", "-o", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "FastSCNN"
    lite = Artifact.load(out / "FastSCNN.x86.fp32.nb").manifest
    assert lite["graph"] == "deploy" and lite["outputs"][0]["dtype"] == "int32"  # argmax label map in the graph
    assert lite["parity"]["metrics"]["pixel_agreement"] >= 0.999
    tfl = Artifact.load(out / "FastSCNN.fp32.tflite").manifest
    assert tfl["graph"] == "raw" and tfl["outputs"][0]["shape"] == [1, 512, 512, 19]
    assert tfl["parity"]["metrics"]["pixel_agreement"] >= 0.999
    assert tfl["parity"]["metrics"]["classes_in_reference"] > 1   # a label map with structure, not one class
    fp16 = Artifact.load(out / "FastSCNN.fp16.tflite").manifest
    assert fp16["parity"]["metrics"]["miou_vs_reference"] >= 0.9
    base = fp16["parity"]["fp16_weight_baseline"]
    assert base["metric"] == "miou_vs_reference" and base["artifact"] == fp16["parity"]["metrics"]["miou_vs_reference"]
    assert abs(base["artifact"] - base["onnx_with_fp16_rounded_weights"]) < 0.02


@pytest.mark.slow
def test_detector_end_to_end(tmp_path):
    r = run_cli("convert", "YOLOv3-MobileNetV1", "--precision", "fp32,fp16", "-o", str(tmp_path))
    out = tmp_path / "YOLOv3-MobileNetV1"
    for f in ("x86.fp32.nb", "arm.fp32.nb", "onnx", "fp32.tflite"):
        art = Artifact.load(out / f"YOLOv3-MobileNetV1.{f}")
        assert art.ok, (f, art.manifest["parity"])
    lite = Artifact.load(out / "YOLOv3-MobileNetV1.x86.fp32.nb").manifest
    matches = lite["parity"]["metrics"]["detections"]
    assert lite["graph"] == "deploy" and sum(m["ref_count"] for m in matches) > 0
    assert all(m["ok"] for m in matches)                     # [N,6] after in-graph NMS, one to one
    tfl = Artifact.load(out / "YOLOv3-MobileNetV1.fp32.tflite").manifest
    assert tfl["graph"] == "raw" and len(tfl["outputs"]) == 3
    assert tfl["parity"]["metrics"]["ap50_vs_reference"] == 1.0
    # fp16 weights pass the task gate (AP50 0.964 measured), and the artifact is as close to the reference
    # as the same model with fp16-rounded weights in onnxruntime: the conversion adds nothing measurable.
    fp16 = Artifact.load(out / "YOLOv3-MobileNetV1.fp16.tflite").manifest
    assert fp16["status"] == "ok", fp16["parity"]["reason"]
    assert fp16["parity"]["metrics"]["ap50_vs_reference"] >= 0.9
    base = fp16["parity"]["fp16_weight_baseline"]
    assert base["metric"] == "ap50_vs_reference"
    assert base["artifact"] == fp16["parity"]["metrics"]["ap50_vs_reference"]
    assert abs(base["artifact"] - base["onnx_with_fp16_rounded_weights"]) < 0.05
    assert r.returncode == 0, r.stdout + r.stderr
