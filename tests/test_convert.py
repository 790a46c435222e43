"""Conversion spine: compat passes, isolation, verified artifacts, manifests, cache, error paths."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from converters import paddle_lite
from converters.isolate import run_isolated
from converters.paddle_compat import make_lite_compatible
from converters.program_proto import framework_pb2
from edge_kit.convert import convert
from edge_kit.errors import ConversionError, EdgekitError, ModelFileError, UnknownModelError, UnsupportedOpError
from edge_kit.manifest import Artifact, manifest_path, sha256_file


def _ops(program: bytes):
    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(program)
    return desc.blocks[0].ops


def test_compat_passes_add_what_lite_needs(tiny_paddle_model):
    original = (tiny_paddle_model / "inference.pdmodel").read_bytes()
    fixed, changes = make_lite_compatible(original)
    assert changes == {"relu6_threshold": 1, "flatten_xshape": 1}
    relu6 = next(op for op in _ops(fixed) if op.type == "relu6")
    assert [a.f for a in relu6.attrs if a.name == "threshold"] == [6.0]
    flatten = next(op for op in _ops(fixed) if op.type == "flatten_contiguous_range")
    assert any(o.parameter == "XShape" and o.arguments for o in flatten.outputs)
    # Idempotent: a second pass changes nothing.
    assert make_lite_compatible(fixed)[1] == {}


def test_opt_crash_becomes_readable_error(tiny_paddle_model, tmp_path):
    """Without the passes Lite's Opt aborts the process; isolated, that is an error naming model, stage and tool."""
    with pytest.raises(ConversionError) as info:
        run_isolated(paddle_lite.child_opt,
                     {"program": str(tiny_paddle_model / "inference.pdmodel"),
                      "params": str(tiny_paddle_model / "inference.pdiparams"),
                      "out_stem": str(tmp_path / "x"), "target": "x86", "fp16": False},
                     model="Tiny", stage="paddlelite x86 fp32", tool="paddlelite Opt")
    msg = str(info.value)
    assert msg.startswith("Tiny: paddlelite x86 fp32 failed in paddlelite Opt")
    assert "aborted" in msg and "relu6" in msg


def test_user_paddle_model_converts_and_verifies(tiny_paddle_model, tmp_path):
    arts = convert(paddle_model=str(tiny_paddle_model), to=("paddlelite", "onnx", "tflite"),
                   precisions=("fp32", "fp16"), out_dir=str(tmp_path), log=lambda m: None)
    by = {(a.format, a.target, a.precision): a for a in arts}
    assert set(by) == {("paddle", "cpu", "fp32"), ("paddlelite", "x86", "fp32"), ("paddlelite", "arm", "fp32"),
                       ("paddlelite", "arm", "fp16"), ("onnx", "cpu", "fp32"), ("tflite", "cpu", "fp32"),
                       ("tflite", "cpu", "fp16")}
    assert all(a.ok for a in arts), [(a.path.name, a.manifest.get("parity")) for a in arts if not a.ok]
    x86 = by[("paddlelite", "x86", "fp32")].manifest
    assert x86["parity"]["status"] == "passed"
    assert x86["parity"]["metrics"]["outputs"][0]["cosine"] > 0.99999
    assert x86["compat_passes"] == {"relu6_threshold": 1, "flatten_xshape": 1}
    arm = by[("paddlelite", "arm", "fp32")].manifest
    assert arm["parity"]["status"] == "not_run" and arm["parity"]["x86_twin"]["status"] == "passed"
    tfl = by[("tflite", "cpu", "fp32")]
    m = tfl.manifest
    # The manifest describes the file on disk and how to feed it.
    assert m["sha256"] == sha256_file(tfl.path) and m["bytes"] == tfl.path.stat().st_size
    assert m["inputs"][0]["shape"] == [1, 64, 64, 3] and m["inputs"][0]["layout"] == "NHWC"
    assert m["preprocess"]["mean"] == [0.5, 0.5, 0.5] and m["preprocess"]["std"] == [0.25, 0.25, 0.25]
    assert m["preprocess"]["resize_short"] == 72 and m["task"] == "classification"
    assert m["parity"]["metrics"]["top1_agreement"] == 1.0
    assert "TRANSPOSE" not in m["ops"] and m["ops"].get("HARD_SWISH") == 1
    # Hard-sigmoid is rewritten so XNNPACK takes the whole graph: no RELU_0_TO_1, one delegate partition.
    assert m["onnx_passes"] == {"hardsigmoid_as_relu6": 1} and "RELU_0_TO_1" not in m["ops"]
    from collections import Counter

    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(tfl.path))
    interp.allocate_tensors()
    assert Counter(op["op_name"] for op in interp._get_ops_details())["DELEGATE"] == 1
    assert {"onnx2tf", "tensorflow", "ai-edge-litert", "edgekit"} <= set(m["tools"])


def test_repeated_conversion_reuses_cache(tiny_paddle_model, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / "cache"))  # cold first: other tests filled the session cache
    logs: list[str] = []
    first = convert(paddle_model=str(tiny_paddle_model), to=("paddlelite", "onnx", "tflite"),
                    out_dir=str(tmp_path / "a"), log=logs.append)
    logs.clear()
    again = convert(paddle_model=str(tiny_paddle_model), to=("paddlelite", "onnx", "tflite"),
                    out_dir=str(tmp_path / "b"), log=logs.append)
    assert logs == []  # no stage ran: every artifact came from the content-hashed cache
    assert [a.manifest["sha256"] for a in again] == [a.manifest["sha256"] for a in first]
    # Each stage's cost is reported: built the first time (with its seconds), cached the second.
    built = {s["stage"]: s for s in first.stages}
    assert not any(s["cached"] for s in first.stages)
    assert {"paddlelite x86 fp32", "paddlelite arm fp32", "onnx", "tflite"} <= set(built)
    assert all(s["ok"] and s["seconds"] > 0 for s in built.values() if not s["cached"])
    assert [s["cached"] for s in again.stages] == [True] * len(again.stages) and len(again.stages) == 5
    assert first.seconds >= max(s["seconds"] for s in first.stages) and again.seconds < first.seconds


def test_parity_failure_marks_artifact_failed(tiny_paddle_model, tmp_path, monkeypatch):
    """A file that computes different numbers is a failure, not an artifact."""
    import edge_kit.conversion.stages as stages

    real = stages.run_artifact

    def corrupt(fmt, target, path, inputs):
        out = real(fmt, target, path, inputs)
        return [[o + 0.5 for o in outs] for outs in out] if fmt == "onnx" else out

    monkeypatch.setattr(stages, "run_artifact", corrupt)
    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / "cache"))
    arts = convert(paddle_model=str(tiny_paddle_model), to=("onnx",), log=lambda m: None)
    onnx_art = next(a for a in arts if a.format == "onnx")
    assert not onnx_art.ok and onnx_art.manifest["parity"]["status"] == "failed"
    assert "max_abs" in onnx_art.manifest["parity"]["reason"]


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownModelError, match="did you mean MobileNetV3_small_ssld"):
        convert("MobileNetV3_smal")
    r = run_cli("convert", "MobileNetV3_smal")
    assert r.returncode == 2 and "did you mean MobileNetV3_small_ssld" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_and_corrupt_paddle_models(tmp_path):
    with pytest.raises(ModelFileError, match="not a directory"):
        convert(paddle_model=str(tmp_path / "nope"))
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelFileError, match="no model.pdmodel"):
        convert(paddle_model=str(tmp_path / "m"))
    (tmp_path / "m" / "model.pdmodel").write_bytes(os.urandom(300))
    with pytest.raises(ModelFileError, match="model.pdiparams"):
        convert(paddle_model=str(tmp_path / "m"))
    (tmp_path / "m" / "model.pdiparams").write_bytes(b"")
    with pytest.raises(ModelFileError, match="corrupt or truncated|no inference program"):
        convert(paddle_model=str(tmp_path / "m"))
    pir = tmp_path / "pir"
    pir.mkdir()
    (pir / "inference.json").write_text("{}")
    (pir / "inference.pdiparams").write_bytes(b"")
    with pytest.raises(ModelFileError, match="PIR"):
        convert(paddle_model=str(pir))


def _onnx_model(path: Path, custom: bool = False) -> Path:
    import onnx
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.random.default_rng(0).normal(size=108).tolist())
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"])]
    opsets = [helper.make_opsetid("", 17)]
    if custom:
        nodes[1] = helper.make_node("FancyAct", ["c"], ["y"], domain="com.example")
        opsets.append(helper.make_opsetid("com.example", 1))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])], [w])
    onnx.save(helper.make_model(graph, opset_imports=opsets), path)
    return path


def test_onnx_source_to_tflite(tmp_path):
    src = _onnx_model(tmp_path / "net.onnx")
    arts = convert(onnx=str(src), to=("onnx", "tflite"), log=lambda m: None)
    tfl = next(a for a in arts if a.format == "tflite" and a.precision == "fp32")
    assert tfl.ok and tfl.manifest["parity"]["status"] == "passed"
    assert "onnxruntime" in tfl.manifest["parity"]["reference"]
    with pytest.raises(EdgekitError, match="Paddle-Lite .nb needs a Paddle program"):
        convert(onnx=str(src), to=("paddlelite",))


def test_onnx_errors(tmp_path):
    with pytest.raises(UnsupportedOpError, match="com.example::FancyAct"):
        convert(onnx=str(_onnx_model(tmp_path / "custom.onnx", custom=True)), to=("tflite",))
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x01garbage")
    with pytest.raises(ModelFileError, match="not a valid ONNX model"):
        convert(onnx=str(tmp_path / "bad.onnx"))
    with pytest.raises(ModelFileError, match="does not exist"):
        convert(onnx=str(tmp_path / "missing.onnx"))


def test_unwritable_output_dir_is_a_clear_error(tiny_paddle_model, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = run_cli("convert", "--paddle-model", str(tiny_paddle_model), "--to", "onnx", "-o", str(blocker / "out"))
    assert r.returncode == 2 and "cannot write" in r.stderr and "Traceback" not in r.stderr


def test_full_disk_leaves_no_half_written_artifact(tiny_paddle_model, tmp_path, monkeypatch):
    import shutil

    import edge_kit.conversion.cache as cache

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.os, "link", no_space)
    monkeypatch.setattr(shutil, "copy2", no_space)
    monkeypatch.setattr(cache.shutil, "copyfile", no_space)
    with pytest.raises(EdgekitError, match="no space left"):
        convert(paddle_model=str(tiny_paddle_model), to=("onnx",), out_dir=str(tmp_path / "out"), log=lambda m: None)
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert leftovers == []


def test_convert_cli_reports_each_artifact(tiny_paddle_model, tmp_path):
    r = run_cli("convert", "--paddle-model", str(tiny_paddle_model), "--to", "paddlelite,onnx", "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "parity passed" in r.stdout and "x86 twin" in r.stdout
    name = tiny_paddle_model.name
    assert (tmp_path / name / f"{name}.arm.fp32.nb").exists()
    assert json.loads(manifest_path(tmp_path / name / f"{name}.onnx").read_text())["status"] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("model", ["MobileNetV3_small_ssld", "MobileNetV2"])
def test_zoo_model_end_to_end(model, tmp_path):
    r = run_cli("convert", model, "--to", "paddlelite,onnx,tflite", "--precision", "fp32,fp16", "-o", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / model
    for f in (f"{model}.arm.fp32.nb", f"{model}.arm.fp16.nb", f"{model}.x86.fp32.nb", f"{model}.onnx",
              f"{model}.fp32.tflite", f"{model}.fp16.tflite"):
        art = Artifact.load(out / f)
        assert art.ok, (f, art.manifest.get("parity"))
        assert art.manifest["sha256"] == sha256_file(out / f)
    x86 = Artifact.load(out / f"{model}.x86.fp32.nb").manifest["parity"]["metrics"]
    assert x86["top1_agreement"] == 1.0 and x86["outputs"][0]["cosine"] > 0.99999
