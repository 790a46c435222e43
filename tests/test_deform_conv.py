"""PP-YOLO's deformable conv v2 on a tiny network (tests/fixtures/deform_net.py), through edgekit's own
converter children: what works and what does not (README, issue 14; scripts/deformconv_probe.py records
the full probe). About 30 s: one Paddle export, one reference run, one paddle2onnx run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from converters.isolate import run_isolated
from converters.onnx_export import child_paddle_to_onnx, onnx_op_histogram
from converters.paddle_source import LEGACY_ENV, load_outputs
from edge_kit.conversion.reference import child_reference_outputs
from edge_kit.parity import tensor_metrics

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def deform(tmp_path_factory):
    """(the opset-19 ONNX, the input images, Paddle Inference's outputs on them)"""
    work = tmp_path_factory.mktemp("deform")
    subprocess.run([sys.executable, str(ROOT / "tests" / "fixtures" / "deform_net.py"), str(work), "24,24"],
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    images = np.random.default_rng(3).normal(0, 1, (2, 3, 24, 24)).astype(np.float32)
    np.savez(work / "inputs.npz", image=images)
    program, params = work / "inference.pdmodel", work / "inference.pdiparams"
    run_isolated(child_reference_outputs, {"program": str(program), "params": str(params),
                                           "inputs_npz": str(work / "inputs.npz"), "out_npz": str(work / "ref.npz")},
                 model="deform_net", stage="reference run", tool="Paddle Inference", env=LEGACY_ENV)
    onnx_file = work / "deform.onnx"
    run_isolated(child_paddle_to_onnx, {"program": str(program), "params": str(params), "out_file": str(onnx_file),
                                        "opset": 19}, model="deform_net", stage="onnx export", tool="paddle2onnx")
    return onnx_file, images, load_outputs(str(work / "ref.npz"))


def _run(model_bytes: bytes, images: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return [sess.run(None, {sess.get_inputs()[0].name: images[b:b + 1]})[0] for b in range(len(images))]


def test_paddle2onnx_maps_deformable_conv_to_deformconv_at_opset_19(deform):
    onnx_file, _, _ = deform
    ops = onnx_op_histogram(onnx_file)
    assert ops.get("DeformConv") == 2 and "GridSample" not in ops, ops


def test_opset_17_export_refuses_deformable_conv_in_one_line(deform):
    """paddle2onnx itself aborts the process there (`FatalError: Process abort signal`): say why instead."""
    from converters.errors import ConversionError

    onnx_file, _, _ = deform
    with pytest.raises(ConversionError) as err:
        run_isolated(child_paddle_to_onnx, {"program": str(onnx_file.parent / "inference.pdmodel"),
                                            "params": str(onnx_file.parent / "inference.pdiparams"),
                                            "out_file": str(onnx_file.parent / "x17.onnx"), "opset": 17},
                     model="deform_net", stage="onnx export", tool="paddle2onnx")
    msg = str(err.value)
    assert "\n" not in msg and "deformable_conv" in msg and "opset >= 19" in msg and "abort" not in msg, msg
    assert not (onnx_file.parent / "x17.onnx").exists()


def test_installed_onnxruntime_has_no_deformconv_kernel(deform):
    """The reason PPYOLO is not in the zoo. When the pinned onnxruntime gains the kernel (upstream
    microsoft/onnxruntime#27393), this fails: then PPYOLO's raw DeformConv graph can be verified directly."""
    onnx_file, images, _ = deform
    with pytest.raises(Exception, match="NOT_IMPLEMENTED.*DeformConv"):
        _run(onnx_file.read_bytes(), images)


def test_deformconv_rewritten_into_standard_ops_matches_paddle(deform):
    import onnx

    from converters.onnx_deform_conv import decompose_deform_conv

    onnx_file, images, ref = deform
    model, count = decompose_deform_conv(onnx.load(str(onnx_file)))
    ops = {n.op_type for n in model.graph.node}
    assert count == 2 and "DeformConv" not in ops and "GridSample" in ops
    for got, want in zip(_run(model.SerializeToString(), images), ref):
        m = tensor_metrics(want[0], got)
        assert m["cosine"] >= 0.99999 and m["max_abs"] < 1e-4 * max(1.0, m["ref_max_abs"]), m


def test_rewrite_refuses_grouped_deformconv():
    from onnx import TensorProto, helper, numpy_helper

    from converters.onnx_deform_conv import decompose_deform_conv

    w = numpy_helper.from_array(np.zeros((4, 2, 3, 3), np.float32), "w")
    node = helper.make_node("DeformConv", ["x", "w", "off"], ["y"], name="dc", group=2, kernel_shape=[3, 3],
                            pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8]),
                                            helper.make_tensor_value_info("off", TensorProto.FLOAT, [1, 18, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    with pytest.raises(ValueError, match="group 1"):
        decompose_deform_conv(model)
    assert [n.op_type for n in model.graph.node] == ["DeformConv"]  # nothing lost on refusal
