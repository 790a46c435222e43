"""Bringing your own model: exports from the Paddle toolkits with dynamic shapes (legacy Paddle 2.x programs
and Paddle 3 PIR), Paddle-exported ONNX, and the toolkits' own configs (issue 10).

The networks are tiny stand-ins with the op patterns of PaddleOCR's mobile models (tests/fixtures/ocr_nets.py):
each reproduces one failure measured on the real models, and each test fails on the code before the fix.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from edge_kit.errors import EdgekitError, ModelFileError
from edge_kit.export_config import read_export_config, resolve_preprocess
from edge_kit.shapes import InputShapeError, accepts, parse_input_shapes, resolve_shape

NETS = ROOT / "tests" / "fixtures" / "ocr_nets.py"


@pytest.fixture(scope="session")
def ocr_model(tmp_path_factory):
    """ocr_model(kind, fmt, shape) -> an exported model directory (made once per session)."""
    made: dict = {}

    def make(kind: str, fmt: str, shape: str) -> Path:
        key = (kind, fmt, shape)
        if key not in made:
            out = tmp_path_factory.mktemp(f"{kind}-{fmt}")
            proc = subprocess.run([sys.executable, str(NETS), str(out), kind, fmt, shape], capture_output=True,
                                  text=True, cwd=ROOT)
            assert proc.returncode == 0, proc.stderr[-2000:]
            made[key] = out
        return made[key]

    return make


def _manifests(out: Path) -> dict[str, dict]:
    return {p.name[:-len(".manifest.json")]: json.loads(p.read_text()) for p in out.rglob("*.manifest.json")}


# -- shapes ------------------------------------------------------------------------------------------

def test_dynamic_height_width_without_a_shape_is_an_error_naming_input_dims_and_flag():
    with pytest.raises(InputShapeError) as exc:
        resolve_shape("x", [-1, 3, -1, -1], {})
    msg = str(exc.value)
    assert "'x'" in msg and "dim 2 (height)" in msg and "dim 3 (width)" in msg
    assert "--input-shape x:1,3,H,W" in msg


def test_dynamic_batch_alone_is_verified_at_batch_1_and_says_so():
    shape, origin = resolve_shape("x", [-1, 3, 64, 64], {})
    assert shape == [1, 3, 64, 64]
    assert "batch 1" in origin["batch"]


def test_input_shape_flag_fills_dynamic_dims_and_is_checked_against_the_model():
    assert resolve_shape("x", [-1, 3, -1, -1], parse_input_shapes(["x:1,3,48,192"]))[0] == [1, 3, 48, 192]
    assert resolve_shape("x", [-1, 3, -1, -1], parse_input_shapes(["1,3,32,32"]))[0] == [1, 3, 32, 32]
    with pytest.raises(InputShapeError, match="fixed at 3"):
        resolve_shape("x", [-1, 3, -1, -1], parse_input_shapes(["x:1,4,48,192"]))
    with pytest.raises(InputShapeError, match="model's input is 'x'"):
        resolve_shape("x", [-1, 3, -1, -1], parse_input_shapes(["image:1,3,48,192"]))
    with pytest.raises(InputShapeError, match="positive"):
        parse_input_shapes(["x:1,3,-1,64"])


def test_accepts_keeps_dynamic_dims_where_the_format_can():
    assert accepts([-1, 3, -1, -1], [1, 3, 48, 96], "onnx")["shape"] == [-1, 3, -1, -1]
    lite = accepts([-1, 3, 48, -1], [1, 3, 48, 96], "paddlelite")
    assert lite["shape"] == [-1, 3, 48, -1] and "verified at [1, 3, 48, 96]" in lite["note"]
    tfl = accepts([-1, 3, 64, 64], [1, 3, 64, 64], "tflite")
    assert tfl["shape"] == [1, 3, 64, 64] and "pinned" in tfl["note"] and "batch" in tfl["note"]


# -- the toolkits' configs (modelled on real files: PaddleX 3 inference.yml, PaddleClas
#    deploy/configs/inference_cls.yaml, PaddleDetection infer_cfg.yml, PaddleSeg deploy.yaml, PaddleX 1 model.yml)

CONFIGS = {
    "inference.yml": textwrap.dedent("""
        Global:
          model_name: PP-LCNet_x1_0
        PreProcess:
          transform_ops:
          - ResizeImage: {resize_short: 256}
          - CropImage: {size: 224}
          - NormalizeImage: {channel_num: 3, mean: [0.485, 0.456, 0.406], order: '', scale: 0.00392156862745098,
                             std: [0.229, 0.224, 0.225]}
          - ToCHWImage: null
        PostProcess:
          Topk:
            topk: 5
            label_list: [tench, goldfish, great white shark]
    """),
    "inference_cls.yml": textwrap.dedent("""
        Global:
          inference_model_dir: ./models
        PreProcess:
          transform_ops:
            - ResizeImage: {resize_short: 256}
            - CropImage: {size: 224}
            - NormalizeImage: {scale: 0.00392157, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], order: ''}
            - ToCHWImage:
        PostProcess:
          main_indicator: Topk
          Topk:
            topk: 5
            class_id_map_file: labels.txt
    """),
    "infer_cfg.yml": textwrap.dedent("""
        mode: paddle
        draw_threshold: 0.5
        metric: COCO
        use_dynamic_shape: false
        arch: PicoDet
        Preprocess:
        - interp: 2
          keep_ratio: false
          target_size: [320, 416]
          type: Resize
        - is_scale: true
          mean: [0.485, 0.456, 0.406]
          std: [0.229, 0.224, 0.225]
          type: NormalizeImage
        - type: Permute
        label_list: [person, bicycle]
    """),
    "deploy.yaml": textwrap.dedent("""
        Deploy:
          input_shape: [-1, 3, -1, -1]
          model: model.pdmodel
          output_dtype: int32
          output_op: argmax
          params: model.pdiparams
          transforms:
          - target_size: [512, 256]
            type: Resize
          - type: Normalize
    """),
    "model.yml": textwrap.dedent("""
        Model: MobileNetV3_small_ssld
        _Attributes:
          model_type: classifier
          labels: [cat, dog]
        Transforms:
        - ResizeByShort: {short_size: 256}
        - CenterCrop: {crop_size: 224}
        - Normalize: {mean: [0.4, 0.4, 0.4], std: [0.2, 0.2, 0.2]}
    """),
}


@pytest.mark.parametrize("name,task,hw,mean,std,scale,labels", [
    ("inference.yml", "classification", (224, 224), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1 / 255,
     ["tench", "goldfish", "great white shark"]),
    ("inference_cls.yml", "classification", (224, 224), (0.5,) * 3, (0.5,) * 3, 0.00392157, ["cat", "dog"]),
    ("infer_cfg.yml", "detection", (320, 416), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1 / 255,
     ["person", "bicycle"]),
    ("deploy.yaml", "semantic_segmentation", (256, 512), (0.5,) * 3, (0.5,) * 3, 1 / 255, []),
    ("model.yml", "classification", (224, 224), (0.4,) * 3, (0.2,) * 3, 1 / 255, ["cat", "dog"]),
])
def test_toolkit_configs_give_preprocessing_task_labels_and_say_where_from(tmp_path, name, task, hw, mean, std,
                                                                          scale, labels):
    (tmp_path / name).write_text(CONFIGS[name])
    (tmp_path / "labels.txt").write_text("0 cat\n1 dog\n")
    cfg = read_export_config(tmp_path)
    assert cfg.file == name and cfg.task == task and tuple(cfg.resize_hw) == hw
    pre, got_task, got_labels, origins = resolve_preprocess(cfg, hw)
    assert got_task == task and got_labels == labels
    assert pre.mean == pytest.approx(mean) and pre.std == pytest.approx(std) and pre.scale == pytest.approx(scale)
    assert origins["mean"].startswith(name) and origins["task"].startswith(name)


def test_flags_override_the_config_and_are_recorded(tmp_path):
    (tmp_path / "infer_cfg.yml").write_text(CONFIGS["infer_cfg.yml"])
    (tmp_path / "names.txt").write_text("a\nb\nc\n")
    cfg = read_export_config(tmp_path)
    pre, task, labels, origins = resolve_preprocess(cfg, (320, 416), mean=(0.1, 0.2, 0.3), scale=1.0,
                                                    task="text_detection", labels_file=str(tmp_path / "names.txt"))
    assert pre.mean == (0.1, 0.2, 0.3) and pre.scale == 1.0 and pre.std == pytest.approx((0.229, 0.224, 0.225))
    assert task == "text_detection" and labels == ["a", "b", "c"]
    assert origins["mean"] == "--mean" and origins["std"].startswith("infer_cfg.yml")
    assert origins["labels"].startswith("--labels")


def test_no_config_and_no_flag_means_task_unknown_not_placeholders(tmp_path):
    pre, task, labels, origins = resolve_preprocess(read_export_config(tmp_path), (48, 192))
    assert task == "unknown" and labels == [] and "set --task" in origins["task"]
    assert "ImageNet" in origins["mean"]


def test_a_broken_config_is_a_clear_error(tmp_path):
    (tmp_path / "inference.yml").write_text("PreProcess: [unclosed\n")
    with pytest.raises(ModelFileError, match="inference.yml: not valid YAML"):
        read_export_config(tmp_path)


# -- the paddle2onnx fixes, unit-level -----------------------------------------------------------------

def test_pir_interp_scale_is_retyped_to_float():
    from converters.onnx_export import float_interp_scales

    doc = {"program": {"regions": [{"blocks": [{"ops": [
        {"#": "1.nearest_interp", "A": [{"AT": {"#": "0.a_array", "D": [{"#": "0.a_f64", "D": 2.0}] * 2},
                                         "N": "scale"}]},
        {"#": "1.scale", "A": [{"AT": {"#": "0.a_f64", "D": 2.0}, "N": "bias"}]}]}]}]}}
    doc = json.loads(json.dumps(doc))
    assert float_interp_scales(doc) == 2
    ops = doc["program"]["regions"][0]["blocks"][0]["ops"]
    assert [e["#"] for e in ops[0]["A"][0]["AT"]["D"]] == ["0.a_f32", "0.a_f32"]
    assert ops[1]["A"][0]["AT"]["#"] == "0.a_f64"  # other ops' doubles are theirs


def test_paddle2x_scalar_slices_are_recorded_0d(ocr_model):
    from converters.onnx_export import zero_d_slices
    from converters.program_proto import framework_pb2

    prog = ocr_model("cls", "legacy", "-1,3,-1,-1") / "inference.pdmodel"
    fixed, n = zero_d_slices(prog.read_bytes())
    assert n == 1
    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(fixed)
    sliced = [v for v in desc.blocks[0].vars if "slice" in v.name]
    assert sliced and all(list(v.type.dense_tensor.tensor.dims) == [] for v in sliced)


# -- end to end ------------------------------------------------------------------------------------------

def test_cli_dynamic_hw_without_shape_fails_before_converting(ocr_model):
    proc = run_cli("convert", "--paddle-model", str(ocr_model("det", "legacy", "-1,3,-1,-1")), "--to", "onnx")
    assert proc.returncode == 2
    assert "dynamic dim 2 (height), dim 3 (width)" in proc.stderr and "--input-shape x:1,3,H,W" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_db_detector_legacy_dynamic_to_every_format_with_parity(ocr_model, tmp_path):
    """DB head (conv-transpose) + FPN nearest 2x: paddle2onnx used to abort in pir_parser.cc (FloatAttribute)."""
    proc = run_cli("convert", "--paddle-model", str(ocr_model("det", "legacy", "-1,3,-1,-1")), "--input-shape",
                   "x:1,3,64,96", "--precision", "fp32,fp16", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ms = _manifests(tmp_path)
    onnx_m = next(m for m in ms.values() if m["format"] == "onnx")
    assert onnx_m["export_fixes"].get("float_interp_scales") == 2
    assert onnx_m["accepts"]["shape"] == [-1, 3, -1, -1]
    nb = next(m for m in ms.values() if m["format"] == "paddlelite" and m["target"] == "x86")
    assert nb["accepts"]["shape"] == [-1, 3, -1, -1] and nb["parity"]["status"] == "passed"
    tfl = [m for m in ms.values() if m["format"] == "tflite"]
    assert {m["precision"] for m in tfl} == {"fp32", "fp16"}
    for m in tfl:
        assert m["status"] == "ok" and m["parity"]["status"] == "passed"
        assert m["inputs"][0]["shape"] == [1, 64, 96, 3]  # the given shape, NHWC; not 1x1
        assert "pinned" in m["accepts"]["note"]


@pytest.mark.slow
def test_svtr_ctc_recognizer_paddle2x_program_to_onnx_and_tflite(ocr_model, tmp_path):
    """LayerNorm + attention reshaped by the runtime H, W; Paddle 2.x's [1]-shaped slices: onnxruntime used to
    reject paddle2onnx's Concat ("All inputs to Concat must have same rank")."""
    proc = run_cli("convert", "--paddle-model", str(ocr_model("rec", "legacy", "-1,3,48,-1")), "--to", "onnx,tflite",
                   "--input-shape", "x:1,3,48,64", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ms = _manifests(tmp_path)
    onnx_m = next(m for m in ms.values() if m["format"] == "onnx")
    assert onnx_m["export_fixes"].get("zero_d_slices") == 2 and onnx_m["parity"]["status"] == "passed"
    assert onnx_m["accepts"]["shape"] == [-1, 3, 48, -1]
    assert any(m["format"] == "tflite" and m["parity"]["status"] == "passed" for m in ms.values())


@pytest.mark.slow
def test_pir_export_converts_to_onnx_and_tflite_and_nb_says_why_not(ocr_model, tmp_path):
    model = ocr_model("cls", "pir", "-1,3,-1,-1")
    assert (model / "inference.json").exists() and not (model / "inference.pdmodel").exists()
    proc = run_cli("convert", "--paddle-model", str(model), "--input-shape", "x:1,3,48,96", "--task",
                   "classification", "-o", str(tmp_path))
    assert proc.returncode == 3, proc.stdout + proc.stderr  # the .nb fails, with its reason
    assert "Opt reads only legacy ProgramDesc" in proc.stdout and "FLAGS_enable_pir_api=0" in proc.stdout
    ms = _manifests(tmp_path)
    ref = next(m for m in ms.values() if m["format"] == "paddle")
    assert ref["file"] == "reference.json" and ref["source"]["program_format"].startswith("PIR")
    for fmt in ("onnx", "tflite"):
        m = next(m for m in ms.values() if m["format"] == fmt)
        assert m["parity"]["status"] == "passed", m
        assert m["parity"]["metrics"]["top1_agreement"] == 1.0


@pytest.mark.slow
def test_fixed_hw_dynamic_batch_keeps_batch_where_it_can_and_says_tflite_pins_it(ocr_model, tmp_path):
    """A [None,3,64,64] export: .nb and ONNX keep -1; TFLite is batch 1 and its manifest says so."""
    model = ocr_model("cls", "legacy", "-1,3,64,64")
    proc = run_cli("convert", "--paddle-model", str(model), "--task", "classification", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dynamic in the model: verified at batch 1" in proc.stderr
    ms = _manifests(tmp_path)
    assert next(m for m in ms.values() if m["format"] == "onnx")["accepts"]["shape"] == [-1, 3, 64, 64]
    assert next(m for m in ms.values() if m.get("target") == "arm")["accepts"]["shape"] == [-1, 3, 64, 64]
    tfl = next(m for m in ms.values() if m["format"] == "tflite")
    assert tfl["inputs"][0]["shape"] == [1, 64, 64, 3]
    assert "dynamic batch are pinned to [1, 3, 64, 64]" in tfl["accepts"]["note"]


@pytest.mark.slow
def test_paddle_exported_onnx_with_dynamic_dims_converts_with_input_shape(ocr_model, tmp_path):
    """`convert --onnx` used to die in onnx2tf ("Dimension -1 must be >= 0") with no way to give a shape."""
    made = tmp_path / "export"
    proc = run_cli("convert", "--paddle-model", str(ocr_model("cls", "legacy", "-1,3,-1,-1")), "--to", "onnx",
                   "--input-shape", "x:1,3,48,96", "-o", str(made))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    onnx_file = next(made.rglob("*.onnx"))
    no_shape = run_cli("convert", "--onnx", str(onnx_file), "--to", "onnx,tflite")
    assert no_shape.returncode == 2 and "--input-shape x:1,3,H,W" in no_shape.stderr
    out = tmp_path / "out"
    proc = run_cli("convert", "--onnx", str(onnx_file), "--to", "onnx,tflite", "--input-shape", "x:1,3,48,96",
                   "--task", "classification", "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tfl = next(m for m in _manifests(out).values() if m["format"] == "tflite")
    assert tfl["parity"]["status"] == "passed" and tfl["inputs"][0]["shape"] == [1, 48, 96, 3]
    assert tfl["onnx_passes"]["input_shape_fixed"] == "x:1,3,48,96"


@pytest.mark.slow
def test_unknown_hw_export_with_config_uses_its_preprocessing(ocr_model, tmp_path):
    """An InputSpec([1,3,None,None]) export used to be verified on 1x1 images and `bundle` crashed.
    Now the size, preprocessing and labels come from the PaddleX config, the manifest says so, and
    `bundle` answers in one line."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(ocr_model("cls", "legacy", "1,3,-1,-1"), model)
    (model / "inference.yml").write_text(textwrap.dedent("""
        Global: {model_name: PP-LCNet_x0_25_textline_ori}
        PreProcess:
          transform_ops:
          - ResizeImage: {size: [160, 80]}
          - NormalizeImage: {mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 0.00392156862745098, order: ''}
          - ToCHWImage: null
        PostProcess:
          Topk: {topk: 1, label_list: ['0_degree', '180_degree']}
    """))
    proc = run_cli("convert", "--paddle-model", str(model), "--to", "paddlelite", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    man = next(a for a in json.loads(proc.stdout)["artifacts"] if a["format"] == "paddlelite" and a["target"] == "x86")
    assert man["preprocess"]["mean"] == [0.5, 0.5, 0.5] and man["preprocess"]["resize_hw"] == [80, 160]
    assert man["accepts"]["verified_at"] == [1, 3, 80, 160] and man["labels_count"] == 2
    assert man["task"] == "classification" and man["origins"]["task"].startswith("inference.yml")
    assert man["origins"]["input_shape"]["height_width"].endswith("inference.yml: PreProcess ResizeImage")
    # The demo apps' contracts (edge_kit.apps) need an adapted graph (softmax, B,G,R input), which edgekit
    # builds for zoo models only: a user's classifier is refused in one line before any conversion.
    proc = run_cli("bundle", "--paddle-model", str(model), "--app", "paddlelite-demo", "-o", str(tmp_path / "b"))
    assert proc.returncode == 2 and "needs an adapted graph" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("b/**/*.nb"))


def test_zoo_models_refuse_user_model_flags():
    from edge_kit.convert import resolve_source

    with pytest.raises(EdgekitError, match="--input-shape applies to --paddle-model"):
        resolve_source("MobileNetV3_small_ssld", options={"input_shape": ["x:1,3,64,64"]})


def test_onnx_dynamic_dims_are_fixed_for_tflite_and_node_names_made_tf_safe():
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from converters.onnx_shapes import specialise, tf_safe_node_names

    # x [-1, 3, -1, -1] -> reshape to [batch, -1] computed from the runtime shape, like a toolkit's flatten
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Slice", ["s", "zero", "one"], ["b"]),
             helper.make_node("Concat", ["b", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["flat"]),
             helper.make_node("Softmax", ["flat"], ["y"], axis=1)]
    consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
              (("zero", [0]), ("one", [1]), ("minus1", [-1]))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1, 3, -1, -1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [-1, -1])], consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    fixed, how = specialise(model, {"x": [1, 3, 4, 5]})
    assert [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 4, 5]
    assert how in ("onnxsim constant folding", "input dims only")
    with pytest.raises(ValueError, match="no ONNX input named 'image'"):
        specialise(model, {"image": [1, 3, 4, 5]})
    fixed.graph.node[-1].name = "Softmax@0"
    assert tf_safe_node_names(fixed) == 1
    assert fixed.graph.node[-1].name == "Softmax_0" and all("@" not in n.name for n in fixed.graph.node)
    onnx.checker.check_model(fixed)


def _svtr_attention_onnx():
    """paddle2onnx's form of PaddleOCR's SVTR attention: x [-1, -1, 8] -> Linear (MatMul + bias Add) -> Identity
    -> Reshape [0, N, 3, heads, dim] with N read from the runtime shape (0 copies the batch dim) -> q k^T ->
    softmax -> @ v."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def const(name, value, dtype=np.int64):
        return numpy_helper.from_array(np.array(value, dtype), name)

    inits = [const("w", rng.standard_normal((8, 24)) * 0.3, np.float32),
             const("b", rng.uniform(-0.1, 0.1, 24), np.float32), const("zero", [0]), const("tail", [3, 2, 4])]
    inits += [const(f"i{i}", [i]) for i in range(4)]
    n = helper.make_node
    nodes = [n("MatMul", ["x", "w"], ["mm"]), n("Add", ["mm", "b"], ["lin"]), n("Identity", ["lin"], ["lin_id"]),
             n("Shape", ["x"], ["s"]), n("Slice", ["s", "i1", "i2"], ["tokens"]),
             n("Concat", ["zero", "tokens", "tail"], ["target"], axis=0),
             n("Reshape", ["lin_id", "target"], ["qkv"]), n("Transpose", ["qkv"], ["t"], perm=[2, 0, 3, 1, 4])]
    for i, part in enumerate("qkv"):
        nodes += [n("Slice", ["t", f"i{i}", f"i{i + 1}", "i0"], [f"{part}5"]),
                  n("Squeeze", [f"{part}5", "i0"], [part])]
    nodes += [n("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]), n("MatMul", ["q", "kt"], ["qk"]),
              n("Softmax", ["qk"], ["a"], axis=-1), n("MatMul", ["a", "v"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1, -1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [-1, 2, -1, 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_svtr_attention_is_folded_without_the_onnxsim_rewrite_that_breaks_its_reshape():
    """onnxsim 0.7.3 turns the Linear into Reshape [-1, K] + Gemm and drops the reshape back, so the [0, N, ...]
    target copies the flattened dim (onnxruntime: "Input shape:{6,24}, requested shape:{6,6,3,2,4}"). Before the
    fix the fallback left the runtime reshape targets to onnx2tf, which then failed on the PP-OCRv4 recognizer."""
    import numpy as np
    import onnxruntime as ort
    from onnx import numpy_helper

    from converters.onnx_shapes import specialise

    model = _svtr_attention_onnx()
    fixed, how = specialise(model, {"x": [1, 6, 8]})
    assert how == "onnxsim constant folding without fuse_matmul_add_bias_into_gemm_batched"
    consts = {i.name: numpy_helper.to_array(i) for i in fixed.graph.initializer}
    reshapes = [node for node in fixed.graph.node if node.op_type == "Reshape"]
    assert reshapes and all(node.input[1] in consts for node in reshapes)  # onnx2tf sees constant targets
    assert not any(node.op_type in ("Shape", "Gemm") for node in fixed.graph.node)
    x = np.random.default_rng(1).standard_normal((1, 6, 8)).astype(np.float32)
    want, got = (ort.InferenceSession(m.SerializeToString()).run(None, {"x": x})[0] for m in (model, fixed))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_svtr_runtime_n_attention_with_biases_to_tflite_fp32_fp16(ocr_model, tmp_path):
    """PaddleOCR's SVTR attention as exported (reshapes by the runtime token count, Linear biases): onnx2tf
    used to stop in the LayerNorm ("has 32 elements, but got shape (None,)"), as on PP-OCRv4's recognizer."""
    proc = run_cli("convert", "--paddle-model", str(ocr_model("svtr", "legacy", "-1,3,48,-1")), "--to",
                   "onnx,tflite", "--precision", "fp32,fp16", "--input-shape", "x:1,3,48,64", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tfl = [m for m in _manifests(tmp_path).values() if m["format"] == "tflite"]
    assert {m["precision"] for m in tfl} == {"fp32", "fp16"}
    for m in tfl:
        assert m["parity"]["status"] == "passed", m["parity"]
        assert m["onnx_passes"]["input_shape_fixed_by"] == "onnxsim constant folding without fuse_matmul_add_bias_into_gemm_batched"
        assert m["inputs"][0]["shape"] == [1, 48, 64, 3]


def test_onnx_to_nb_refusal_says_exactly_why(tmp_path):
    """ONNX -> .nb has no route on this toolchain: the message names the translator tried and what stops it."""
    from test_convert import _onnx_model

    proc = run_cli("convert", "--onnx", str(_onnx_model(tmp_path / "net.onnx")), "--to", "paddlelite")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    for reason in ("x2paddle 1.6.0", "PIR program that Paddle-Lite 2.13's Opt cannot read", "FLAGS_enable_pir_api=0",
                   "opsets 7-15", "--to onnx,tflite"):
        assert reason in proc.stderr, proc.stderr
