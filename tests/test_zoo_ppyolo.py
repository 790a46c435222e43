"""PP-YOLO (edge_kit/zoo/ppyolo.py) at a tiny input: PaddleDetection's ppyolo_r50vd_dcn structure, the
IoU-aware objectness, and (slow) its legacy program through the ONNX stage's opset-19 export + DeformConv
rewrite with parity against Paddle Inference. The full model at 608x608 is converted once for the record
(README, issue 14), not here."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from converters.isolate import run_isolated
from converters.paddle_source import LEGACY_ENV

ROOT = Path(__file__).resolve().parent.parent
HW = 64   # the coarsest level is 2x2: CoordConv's (w - 1) stays non-zero


@pytest.fixture(scope="module")
def ppyolo():
    from edge_kit.zoo.ppyolo import ppyolo_r50vd_dcn

    layer = ppyolo_r50vd_dcn(postprocess=False)
    layer.eval()
    return layer


def test_structure_follows_paddledetection_ppyolo_r50vd_dcn(ppyolo):
    import paddle
    from paddle.vision.ops import DeformConv2D

    from edge_kit.zoo.ppyolo import SPP, CoordConv

    subs = [s for _, s in ppyolo.named_sublayers()]
    dcn = [s for s in subs if isinstance(s, DeformConv2D)]
    assert [int(np.atleast_1d(d._stride)[0]) for d in dcn] == [2, 1, 1]  # res5's three bottlenecks
    assert all(list(d.weight.shape) == [512, 512, 3, 3] and d.bias is None for d in dcn)
    assert sum(isinstance(s, CoordConv) for s in subs) == 12 and sum(isinstance(s, SPP) for s in subs) == 1
    assert [h.weight.shape[0] for h in ppyolo.heads] == [255] * 3
    assert [h.weight.shape[0] for h in ppyolo.iou_heads] == [3] * 3
    # 47,116,727 fp32 values with BN statistics = 188.5 MB, the registry's size note
    assert sum(int(np.prod(t.shape)) for t in ppyolo.state_dict().values()) == 47_116_727
    outs = ppyolo(paddle.to_tensor(np.zeros((1, 3, HW, HW), np.float32)))
    assert [list(o.shape) for o in outs] == [[1, 255, HW // s, HW // s] for s in (32, 16, 8)]


def test_iou_aware_objectness_is_the_heads_formula():
    """logit(sigmoid(obj)^0.6 * sigmoid(iou)^0.4) in the objectness channel of each anchor; box and class
    channels untouched (PaddleDetection YOLOv3Head with iou_aware, at inference)."""
    import paddle

    from edge_kit.zoo.ppyolo import iou_aware

    rng = np.random.default_rng(0)
    raw, iou = rng.normal(0, 2, (1, 3 * 7, 2, 3)).astype(np.float32), rng.normal(0, 2, (1, 3, 2, 3)).astype(np.float32)
    got = iou_aware(paddle.to_tensor(raw), paddle.to_tensor(iou), 3, 0.4).numpy().reshape(1, 3, 7, 2, 3)
    def sig(v):
        return 1 / (1 + np.exp(-v.astype(np.float64)))

    r = raw.reshape(1, 3, 7, 2, 3)
    p = sig(r[:, :, 4]) ** 0.6 * sig(iou) ** 0.4
    np.testing.assert_allclose(got[:, :, 4], np.log(p / (1 - p)), atol=2e-4)
    np.testing.assert_array_equal(np.delete(got, 4, axis=2), np.delete(r, 4, axis=2))


# Seeded, calibrated PPYOLO (argv: OUT_DIR raw|deploy) at HW x HW exported as the zoo exports it (a legacy
# program): in a child, because Paddle reads FLAGS_enable_pir_api when it is imported.
EXPORT_TINY = f"""
import sys
import numpy as np
import paddle
from edge_kit.zoo.init import init_weights
from edge_kit.zoo.ppyolo import ppyolo_r50vd_dcn

layer = ppyolo_r50vd_dcn(postprocess=sys.argv[2] == "deploy")
calib = np.random.default_rng(1).normal(0, 1, (2, 3, {HW}, {HW})).astype(np.float32)
init_weights(layer, 0, calib)
layer.after_init(calib)
layer.eval()
paddle.jit.save(layer, sys.argv[1] + "/inference",
                input_spec=[paddle.static.InputSpec([1, 3, {HW}, {HW}], "float32", "image")])
"""


def _export(out: Path, graph: str) -> None:
    subprocess.run([sys.executable, "-c", EXPORT_TINY, str(out), graph], check=True, capture_output=True,
                   env={**os.environ, **LEGACY_ENV, "PYTHONPATH": str(ROOT)})


def _reference(work: Path, program: Path, params: Path) -> None:
    """Paddle Inference's outputs on work/in.npz into work/ref.npz."""
    from edge_kit.conversion.reference import child_reference_outputs

    run_isolated(child_reference_outputs, {"program": str(program), "params": str(params),
                                           "inputs_npz": str(work / "in.npz"), "out_npz": str(work / "ref.npz")},
                 model="PPYOLO", stage="reference run", tool="Paddle Inference", env=LEGACY_ENV)


@pytest.mark.slow
def test_tiny_ppyolo_program_exports_at_opset_19_and_the_rewritten_onnx_matches_paddle(tmp_path):
    """About 40 s: the export, a Paddle Inference run, paddle2onnx + the rewrite, onnxruntime."""
    import onnxruntime as ort

    from converters.onnx_export import child_paddle_to_onnx, export_opset, onnx_op_histogram
    from converters.paddle_source import load_outputs
    from edge_kit.parity import tensor_metrics

    _export(tmp_path, "raw")
    program, params = tmp_path / "inference.pdmodel", tmp_path / "inference.pdiparams"
    assert export_opset(program) == 19
    images = np.random.default_rng(2).normal(0, 1, (2, 3, HW, HW)).astype(np.float32)
    np.savez(tmp_path / "in.npz", image=images)
    _reference(tmp_path, program, params)
    made = run_isolated(child_paddle_to_onnx, {"program": str(program), "params": str(params),
                                               "out_file": str(tmp_path / "m.onnx"), "opset": 19,
                                               "rewrite_deform_conv": True},
                        model="PPYOLO", stage="onnx export", tool="paddle2onnx")
    assert made["fixes"]["deform_conv_rewritten"] == 3
    ops = onnx_op_histogram(tmp_path / "m.onnx")
    assert "DeformConv" not in ops and ops["GridSample"] == 3
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    ref = load_outputs(str(tmp_path / "ref.npz"))
    for b in range(len(images)):
        for want, got in zip(ref[b], sess.run(None, {sess.get_inputs()[0].name: images[b:b + 1]})):
            m = tensor_metrics(want, got)
            assert m["cosine"] >= 0.99999, m


# Runs the x86 .nb in a child of its own: a Paddle-Lite kernel that aborts (as a 0-D fill_constant did,
# "fill_constant ... no valid out_shape") must fail this test, not kill pytest.
RUN_NB = """
import sys
import numpy as np
from pathlib import Path
from edge_kit.infer import run_artifact
x = np.load(sys.argv[1] + "/in.npz")["image"]
got = run_artifact("paddlelite", "x86", Path(sys.argv[1] + "/m.nb"), [x])
np.savez(sys.argv[1] + "/got.npz", *[g[0] for g in got])
"""


@pytest.mark.slow
def test_tiny_ppyolo_deploy_graph_runs_on_paddle_lite_x86_like_paddle(tmp_path):
    """The deploy graph (yolo_box + multiclass_nms3 inside) through the pipeline's Lite steps: compat passes,
    Opt for x86, Paddle-Lite's deformable_conv Host kernel; detections matched with Paddle Inference's."""
    from converters import paddle_lite
    from converters.paddle_compat import make_lite_compatible
    from converters.paddle_source import load_outputs
    from edge_kit.postprocess import match_detections

    _export(tmp_path, "deploy")
    images = np.random.default_rng(2).normal(0, 1, (2, 3, HW, HW)).astype(np.float32)
    np.savez(tmp_path / "in.npz", image=images)
    _reference(tmp_path, tmp_path / "inference.pdmodel", tmp_path / "inference.pdiparams")
    program, _ = make_lite_compatible((tmp_path / "inference.pdmodel").read_bytes())
    (tmp_path / "p.pdmodel").write_bytes(program)
    run_isolated(paddle_lite.child_opt, {"program": str(tmp_path / "p.pdmodel"),
                                         "params": str(tmp_path / "inference.pdiparams"),
                                         "out_stem": str(tmp_path / "m"), "target": "x86", "fp16": False},
                 model="PPYOLO", stage="paddlelite x86 fp32", tool="paddlelite Opt")
    proc = subprocess.run([sys.executable, "-c", RUN_NB, str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = np.load(tmp_path / "got.npz")
    for b, ref in enumerate(load_outputs(str(tmp_path / "ref.npz"))):
        m = match_detections(ref[0], got[f"arr_{b}"], iou_min=0.99, score_atol=1e-4)
        assert m["ok"] and m["ref_count"] > 0, m
