"""PP-YOLO's deformable conv v2 on a tiny network (tests/fixtures/deform_net.py), through edgekit's own
converter children and through `edgekit convert --paddle-model` (opset 19 + the DeformConv rewrite, parity
on onnxruntime, TFLite refused in one line): README, issue 14; scripts/deformconv_probe.py records the
full probe."""
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
    """Why the ONNX stage rewrites DeformConv. When the pinned onnxruntime gains the kernel (upstream
    microsoft/onnxruntime#27393), this fails: then the raw DeformConv graph can be verified directly."""
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


def _manifests(out: Path) -> dict:
    import json

    return {p.name[:-len(".manifest.json")]: json.loads(p.read_text()) for p in out.rglob("*.manifest.json")}


def test_user_model_with_deformable_conv_gets_a_verified_onnx_and_tflite_is_refused_in_one_line(deform, tmp_path):
    """The real pipeline (`edgekit convert --paddle-model`): opset 19, both DeformConv rewritten, parity
    passed on the installed onnxruntime; TFLite refused in one line before onnx2tf runs (a file that fails
    parity at cosine 0.977 is not shipped)."""
    import onnx

    from tests.conftest import run_cli

    onnx_file, _, _ = deform
    proc = run_cli("convert", "--paddle-model", str(onnx_file.parent), "--to", "onnx,tflite", "-o", str(tmp_path))
    assert proc.returncode == 3, proc.stdout + proc.stderr  # the TFLite stage failed, with its reason
    ms = _manifests(tmp_path)
    m = next(m for m in ms.values() if m["format"] == "onnx")
    assert m["status"] == "ok" and m["parity"]["status"] == "passed", m
    assert m["opset"] == 19 and m["deform_conv_rewritten"] == 2 and m["export_fixes"]["deform_conv_rewritten"] == 2
    model = onnx.load(str(tmp_path / m["model"] / m["file"]))
    ops = {n.op_type for n in model.graph.node}
    assert "DeformConv" not in ops and "GridSample" in ops
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) == 19
    tfl = [m for m in ms.values() if m["format"] == "tflite"]
    assert tfl and all(t["status"] == "failed" and t.get("file") is None for t in tfl)
    assert "onnx2tf 1.28.8 has no DeformConv" in tfl[0]["reason"] and "\n" not in tfl[0]["reason"]
    assert not list(tmp_path.rglob("*.tflite"))
    assert "has no DeformConv converter" in proc.stdout + proc.stderr
    assert "tflite: onnx2tf" not in proc.stderr  # refused before the stage started onnx2tf


def test_programs_without_deformable_conv_keep_opset_17(tiny_paddle_model):
    """The opset is per program: every program without deformable_conv stays at onnx_export.OPSET, with no
    rewrite field in its manifest."""
    import onnx

    from converters import onnx_export
    from edge_kit.convert import convert

    assert onnx_export.OPSET == 17 and onnx_export.DEFORM_OPSET == 19
    assert onnx_export.export_opset(tiny_paddle_model / "inference.pdmodel") == 17
    art = next(a for a in convert(paddle_model=str(tiny_paddle_model), to=("onnx",), log=lambda m: None)
               if a.format == "onnx")
    assert art.ok and art.manifest["opset"] == 17 and "deform_conv_rewritten" not in art.manifest
    assert "deform_conv_rewritten" not in art.manifest["export_fixes"]
    assert [o.version for o in onnx.load(str(art.path)).opset_import if o.domain in ("", "ai.onnx")] == [17]


def test_export_opset_reads_deformable_conv_from_the_program(deform):
    from converters import onnx_export

    onnx_file, _, _ = deform
    program = onnx_file.parent / "inference.pdmodel"
    assert "deformable_conv" in onnx_export.program_op_types(program)
    assert onnx_export.export_opset(program) == 19
