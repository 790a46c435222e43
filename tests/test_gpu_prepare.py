"""ONNX prepared for TensorRT: audit, int64 outputs, the fp16 variant, onnxruntime parity; trtexec lines."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tiny_onnx import tiny_vision_onnx  # noqa: E402

from edge_kit.errors import ParityError, UnsupportedOpError  # noqa: E402
from edge_kit.gpu.prepare import audit, prepare  # noqa: E402
from edge_kit.manifest import Artifact, sha256_file  # noqa: E402


def _ort(path, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"image": x})


def test_prepare_tiny_graph_fp32_and_fp16(tmp_path):
    import onnx
    from onnx import TensorProto

    src = tiny_vision_onnx(tmp_path / "tiny.onnx")
    arts = prepare(src, tmp_path / "out", model="Tiny")
    assert [a.precision for a in arts] == ["fp32", "fp16"]
    fp32, fp16 = arts
    for a in arts:
        m = Artifact.load(a.path).manifest  # the manifest on disk, not the object in memory
        assert m["status"] == "ok" and m["parity"]["status"] == "passed" and m["target"] == "tensorrt"
        assert m["sha256"] == sha256_file(a.path) and m["source"]["sha256"] == sha256_file(src)
        assert m["inputs"] == [{"name": "image", "shape": [1, 3, 32, 32], "dtype": "float32"}]
        assert [o["dtype"] for o in m["outputs"]] == ["float32", "int32"]  # int64 argmax cast for TensorRT
        assert {"severity": "fixed", "op": "Cast", "node": "label", "message": "int64 output cast to int32"} \
            in m["tensorrt"]["audit"]
    x = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    ref = _ort(src, x)
    got32 = _ort(fp32.path, x)
    assert np.array_equal(ref[0], got32[0]) and got32[1].dtype == np.int32 and got32[1][0] == ref[1][0]
    # fp16: weights really are fp16 (not fp32 renamed), io stays fp32, numbers close but not identical
    g = onnx.load(str(fp16.path))
    conv_w = {t.name: t.data_type for t in g.graph.initializer}
    assert conv_w["w1"] == TensorProto.FLOAT16 and conv_w["fc_w"] == TensorProto.FLOAT16
    assert g.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert g.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    got16 = _ort(fp16.path, x)
    assert not np.array_equal(got16[0], ref[0])
    np.testing.assert_allclose(got16[0], ref[0], atol=2e-2, rtol=2e-2)
    assert fp16.manifest["tensorrt"]["strongly_typed"] is True
    assert fp16.manifest["bytes"] < 0.8 * fp32.manifest["bytes"]


@pytest.mark.parametrize("kwargs, message", [
    ({"dynamic_batch": True}, "dynamic shape ['N', 3, 32, 32]"),
    ({"resize_mode": "cubic"}, "mode 'cubic'"),
])
def test_graphs_tensorrt_would_refuse_are_refused(tmp_path, kwargs, message):
    src = tiny_vision_onnx(tmp_path / "bad.onnx", **kwargs)
    with pytest.raises(UnsupportedOpError, match=message.replace("[", r"\[").replace("]", r"\]")):
        prepare(src, tmp_path / "out", model="Bad")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_audit_flags_nms_custom_ops_topk_and_unsupported_ops(tmp_path):
    import onnx
    from onnx import helper

    cases = {
        "nms": helper.make_node("NonMaxSuppression", ["logits", "logits"], ["sel"]),
        "custom": helper.make_node("multiclass_nms3", ["logits"], ["dets"], domain="Paddle"),
        "det": helper.make_node("Det", ["logits"], ["d"]),
        "topk": helper.make_node("TopK", ["logits", "k"], ["v", "i"]),
    }
    for name, node in cases.items():
        model = onnx.load(str(tiny_vision_onnx(tmp_path / f"{name}.onnx", argmax=False)))
        model.graph.node.append(node)
        if name == "topk":
            model.graph.initializer.append(onnx.numpy_helper.from_array(np.array([5000], np.int64), "k"))
        errors = [f for f in audit(model) if f.severity == "error"]
        assert errors, name
        text = errors[0].message
        assert {"nms": "NMS inside the graph", "custom": "custom op Paddle::multiclass_nms3",
                "det": "onnx-tensorrt's operator matrix", "topk": "K = 5000 >= 3840"}[name] in text
    clean = onnx.load(str(tiny_vision_onnx(tmp_path / "clean.onnx")))
    assert [f for f in audit(clean) if f.severity == "error"] == []


def test_a_wrong_fp16_rewrite_fails_parity_and_says_so(tmp_path, monkeypatch):
    """A rewrite that changes the numbers (here: a weight scaled by 1.5 on top of the fp16 rewrite) is a
    failure: the manifest says failed and prepare raises ParityError (exit 3 at the CLI)."""
    from onnx import numpy_helper

    from edge_kit.gpu import prepare as prep

    real = prep.to_fp16

    def broken(model):
        out = real(model)
        for t in out.graph.initializer:
            if t.name == "w2":
                t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) * np.float16(1.5), "w2"))
        return out

    monkeypatch.setattr(prep, "to_fp16", broken)
    src = tiny_vision_onnx(tmp_path / "tiny.onnx", argmax=False)
    with pytest.raises(ParityError, match="fp16"):
        prepare(src, tmp_path / "out", model="Tiny")
    m16 = Artifact.load(tmp_path / "out" / "Tiny.trt.fp16.onnx").manifest
    assert m16["status"] == "failed" and m16["parity"]["status"] == "failed"
    assert Artifact.load(tmp_path / "out" / "Tiny.trt.fp32.onnx").manifest["status"] == "ok"


@pytest.mark.parametrize("trt, fp16_flag, fp16_onnx, extra", [
    ("8.6", "--fp16", "trt.fp32.onnx", []),
    ("10", "--stronglyTyped", "trt.fp16.onnx", []),
    ("11", None, "trt.fp16.onnx", ["--includeDataTransfers", "--noCudaGraph"]),
])
def test_trtexec_lines_per_release(tmp_path, trt, fp16_flag, fp16_onnx, extra):
    from edge_kit.gpu.trtexec_cmd import build_commands

    cmds = build_commands(["ResNet50_vd_ssld"], tmp_path / "my dir", ("fp32", "fp16"), trt, prepare=False)
    fp32, fp16 = cmds
    a32, a16 = shlex.split(fp32.line().split(" 2>&1 | tee ")[0]), shlex.split(fp16.line().split(" 2>&1 | tee ")[0])
    assert a32[0] == "trtexec" and "--noTF32" in a32 and "--noTF32" not in a16
    assert "--shapes=image:1x3x224x224" in a32
    assert a32[1] == f"--onnx={tmp_path / 'my dir' / 'ResNet50_vd_ssld' / 'ResNet50_vd_ssld.trt.fp32.onnx'}"
    assert a16[1].endswith(fp16_onnx)
    for flag in ("--fp16", "--stronglyTyped"):
        assert (flag in a16) == (flag == fp16_flag), flag
    for a in (a32, a16):
        assert "--duration=0" in a and "--percentile=90,95,99" in a
        assert any(x.startswith("--exportTimes=") and x.endswith(f".trt{trt}.times.json") for x in a)
        assert all(x in a for x in extra)
    assert shlex.split(fp16.import_line())[1:] == ["import-trtexec", str(fp16.log), "--model", "ResNet50_vd_ssld",
                                                   "--precision", "fp16"]
    assert str(fp16.log).endswith(f"ResNet50_vd_ssld.fp16.trt{trt}.log")


def test_trtexec_commands_cli_for_an_unimplemented_model_is_one_line(capsys):
    from edge_kit.cli import main

    assert main(["trtexec-commands", "FasterRCNN-ResNet50-FPN", "-o", "/nonexistent/x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not implemented by edgekit" in err[0] and "FasterRCNN-ResNet50-FPN" in err[0]


def test_models_cli_lists_ppyolo_as_implemented_with_its_size_note(capsys):
    """PPYOLO is in the zoo (edge_kit/zoo/ppyolo.py; its DeformConv goes through ONNX by the rewrite,
    tests/test_deform_conv.py): no "not implemented" note, a size note against the seed's 329.1 MB."""
    import json

    from edge_kit.cli import main

    assert main(["models", "--task", "detection", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["model"] == "PPYOLO")
    assert row["implemented"] is True and "not_implemented_why" not in row
    assert "329.1 MB" in row["size_note"] and "188.5 MB" in row["size_note"]
    assert main(["models", "--task", "detection"]) == 0
    out = capsys.readouterr().out
    assert "note: PPYOLO: not implemented" not in out and "note: PPYOLO: 188.5 MB" in out


@pytest.mark.slow
def test_prepare_zoo_classifier_end_to_end(tmp_path):
    """MobileNetV3_small_ssld: edgekit's verified ONNX -> both TensorRT files pass the classification gates
    (fp32 tight, fp16 by top-1/top-5) on the model's own images, and trtexec-commands finds them."""
    from edge_kit.gpu.model_prep import prepare_model
    from edge_kit.gpu.trtexec_cmd import build_commands

    arts = prepare_model("MobileNetV3_small_ssld", tmp_path)
    assert [a.precision for a in arts] == ["fp32", "fp16"] and all(a.ok for a in arts)
    checks = {c["name"]: c for c in arts[1].manifest["parity"]["checks"]}
    assert any("top1" in n for n in checks)
    again = prepare_model("MobileNetV3_small_ssld", tmp_path)  # cached by the source ONNX's sha256
    assert [a.manifest["sha256"] for a in again] == [a.manifest["sha256"] for a in arts]
    cmds = build_commands(["MobileNetV3_small_ssld"], tmp_path, ("fp32", "fp16"), "11")
    assert all(c.prepared for c in cmds)


def test_fp16_rewrite_survives_the_converters_cast_cleanup_bug(tmp_path, monkeypatch):
    """onnxconverter-common 1.16's last pass raises on HRNet_W18's graph ("The downstream node of the second
    cast node should be graph output"). edgekit re-runs the conversion without that pass; the result is a
    real fp16 graph that passes parity, and the manifest says what was done."""
    from onnxconverter_common import float16

    real = float16.remove_unnecessary_cast_node
    calls = []

    def buggy(graph):
        calls.append(1)
        raise ValueError("The downstream node of the second cast node should be graph output")

    monkeypatch.setattr(float16, "remove_unnecessary_cast_node", buggy)
    src = tiny_vision_onnx(tmp_path / "tiny.onnx", argmax=False)
    fp16 = prepare(src, tmp_path / "out", model="Tiny", precisions=("fp16",))[0]
    assert calls == [1] and float16.remove_unnecessary_cast_node is buggy  # restored to what it was
    assert fp16.manifest["status"] == "ok"
    assert any("redundant Cast pairs kept" in f["message"] for f in fp16.manifest["tensorrt"]["audit"])
    monkeypatch.setattr(float16, "remove_unnecessary_cast_node", real)
