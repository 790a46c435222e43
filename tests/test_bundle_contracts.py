"""Android app bundles against each app's contract as its source reads it (edge_kit.apps).

Every (task x app) pair: the bundle edgekit writes now passes `--check` (the app's own pre/post-processing
replayed on the x86 twin / TFLite, compared with the reference), and the bundle main wrote before
(standard graph, `class_i` labels, old settings, no app edits) fails it, defect by defect.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from edge_kit.apps import APPS, resolve_app
from edge_kit.apps.contract import ContractBreak
from edge_kit.apps.paddlelite_demo import ClassificationCxx, ClassificationJava, SegmentationCxx
from edge_kit.errors import EdgekitError

CLS = "MobileNetV3_small_ssld"
SEG = "FastSCNN"


# -- the contracts' parsing, without a model --------------------------------------------------------
def test_label_loaders_as_the_apps_read_them():
    old = "".join(f"class_{i}\n" for i in range(3)).encode()          # what main bundled
    assert ClassificationCxx.load_labels(old) == [] and ClassificationJava.load_labels(old) == []
    demo = b"n01440764 tench, Tinca tinca\n"                          # the demo's own file, LF
    assert ClassificationCxx.load_labels(demo) == [" tench, Tinca tinc"]   # C++ drops the last character
    assert ClassificationJava.load_labels(demo) == [" tench, Tinca tinca"]
    names = ["tench", "goldfish"]
    assert [s.strip() for s in ClassificationCxx.load_labels(ClassificationCxx().label_text(names).encode())] == names
    assert [s.strip() for s in ClassificationJava.load_labels(ClassificationJava().label_text(names).encode())] == names


def test_int32_label_map_is_read_past_its_end_as_int64():
    with pytest.raises(ContractBreak, match="reads past"):
        SegmentationCxx.read_label_map(np.zeros((1, 8, 8), np.int32), "data<int64_t>()")
    assert SegmentationCxx.read_label_map(np.ones((1, 8, 8), np.int64), "x").shape == (8, 8)


def test_every_contract_term_cites_a_source_line():
    for contract in APPS.values():
        assert contract.terms, contract.name
        for term in contract.terms:
            assert ":" in term.source and any(ch.isdigit() for ch in term.source.rsplit(":", 1)[1]), term


def test_unsupported_pairs_refused_before_converting(tmp_path, monkeypatch):
    import edge_kit.bundle as bundle_mod

    def no_conversion(*a, **k):
        raise AssertionError("converted before refusing")

    monkeypatch.setattr(bundle_mod, "_convert_for", no_conversion)
    for model, app, words in (("YOLOv3-MobileNetV1", "tflite-task", "TFLite_Detection_PostProcess"),
                              ("YOLOv3-MobileNetV1", "mediapipe", "DETECTOR_METADATA"),
                              (CLS, "plite-yolo", "runs detection models"),
                              (CLS, "plite-picodet", "runs detection models"),
                              (CLS, "plite-seg-java", "runs semantic_segmentation models"),
                              (SEG, "plite-cls-cxx", "runs classification models")):
        t0 = time.time()
        with pytest.raises(EdgekitError, match=words):
            bundle_mod.bundle(model, app=app, out_dir=str(tmp_path))
        assert time.time() - t0 < 20
    with pytest.raises(EdgekitError, match="unknown app"):
        resolve_app("nope", "classification")


# -- real bundles, checked by replay -----------------------------------------------------------------
def _bundle(app: str, model: str, out: Path) -> Path:
    from edge_kit.bundle import bundle

    return bundle(model, app=app, out_dir=str(out), check=True, log=lambda m: None)


def _standard_twin(model: str) -> Path:
    """The x86 .nb of the standard graph: what main's bundle shipped (logits / int32 label map)."""
    from edge_kit.convert import convert

    arts = convert(model, to=("paddlelite",), log=lambda m: None)
    return next(a for a in arts if a.format == "paddlelite" and a.target == "x86").path


def _check(dest: Path) -> dict:
    from edge_kit.apps.check import check_bundle

    return check_bundle(dest)


def _variant(good: Path, tmp: Path, name: str) -> Path:
    bad = tmp / name
    if bad.exists():
        shutil.rmtree(bad)
    shutil.copytree(good, bad)
    return bad


def _old_settings_xml(settings: dict) -> str:
    rows = "\n".join(f'    <string name="{k}">{v}</string>' for k, v in settings.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<resources>\n{rows}\n</resources>\n'


@pytest.fixture(scope="module")
def cls_bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("cls")
    return {app: _bundle(app, CLS, out) for app in ("plite-cls-cxx", "plite-cls-java")}, _standard_twin(CLS), out


@pytest.mark.slow
@pytest.mark.parametrize("app", ["plite-cls-cxx", "plite-cls-java"])
def test_classification_bundle_meets_the_app(cls_bundles, app):
    bundles, _, _ = cls_bundles
    result = _check(bundles[app])
    assert result["status"] == "passed", result
    assert result["app_shows"][0][0] == result["reference_top"][0][0]
    assert abs(sum(p for _, p in result["app_shows"]) - sum(p for _, p in result["reference_top"])) < 0.01
    info = json.loads((bundles[app] / "edgekit_bundle.json").read_text())
    assert info["app_graph"] == {"kind": "classifier", "softmax": True, "bgr_input": True}
    edit = json.loads((bundles[app] / "app_edits.json").read_text())["edits"][0]
    assert "mobilenet_v1_for_cpu" in edit["old"] and f'"/{CLS}"' in edit["new"]


@pytest.mark.slow
@pytest.mark.parametrize("app", ["plite-cls-cxx", "plite-cls-java"])
def test_classification_old_bundle_fails_defect_by_defect(cls_bundles, tmp_path, app):
    bundles, std_twin, _ = cls_bundles
    good = bundles[app]
    assets = good / "app" / "src" / "main" / "assets"
    # 1. no edit of the hard-coded model folder: the demo's mobilenet_v1_for_cpu is loaded
    bad = _variant(good, tmp_path, "no_edits")
    (bad / "app_edits.json").unlink()
    r = _check(bad)
    assert r["status"] == "failed" and "mobilenet_v1_for_cpu" in r["reason"], r
    # 2. main's label file: `class_i` lines without a space -> no label parsed
    bad = _variant(good, tmp_path, "labels")
    (bad / "app" / "src" / "main" / "assets" / "labels" / "labels.txt").write_text(
        "".join(f"class_{i}\n" for i in range(1000)))
    r = _check(bad)
    assert r["status"] == "failed" and ("labels" in r["reason"] or "label" in r["reason"]), r
    # 3. main's graph: logits, R,G,B input (the app feeds B,G,R), with main's settings
    bad = _variant(good, tmp_path, "graph")
    shutil.copy2(std_twin, bad / "edgekit_check" / "model.x86.nb")
    shutil.copy2(std_twin, bad / "app" / "src" / "main" / "assets" / "models" / CLS / "model.nb")
    settings = {"MODEL_PATH_DEFAULT": f"models/{CLS}", "LABEL_PATH_DEFAULT": "labels/labels.txt",
                "INPUT_COLOR_FORMAT_DEFAULT": "RGB", "INPUT_SHAPE_DEFAULT": "1,3,224,224",
                "INPUT_MEAN_DEFAULT": "0.485,0.456,0.406", "INPUT_STD_DEFAULT": "0.229,0.224,0.225"}
    (bad / "settings_strings.xml").write_text(_old_settings_xml(settings))
    r = _check(bad)
    assert r["status"] == "failed" and ("score" in r["reason"] or "rank" in r["reason"]), r
    assert assets.exists()


@pytest.fixture(scope="module")
def seg_bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("seg")
    return {app: _bundle(app, SEG, out) for app in ("plite-seg-cxx", "plite-seg-java")}, _standard_twin(SEG), out


@pytest.mark.slow
@pytest.mark.parametrize("app", ["plite-seg-cxx", "plite-seg-java"])
def test_segmentation_bundle_meets_the_app(seg_bundles, app):
    bundles, _, _ = seg_bundles
    result = _check(bundles[app])
    assert result["status"] == "passed", result
    info = json.loads((bundles[app] / "edgekit_bundle.json").read_text())
    assert info["app_graph"]["label_dtype"] == "int64" and info["app_graph"]["bgr_input"]


@pytest.mark.slow
@pytest.mark.parametrize("app", ["plite-seg-cxx", "plite-seg-java"])
def test_segmentation_old_bundle_fails_defect_by_defect(seg_bundles, tmp_path, app):
    bundles, std_twin, _ = seg_bundles
    good = bundles[app]
    # 1. main's graph: an int32 label map the app reads as int64
    bad = _variant(good, tmp_path, "graph")
    shutil.copy2(std_twin, bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed" and "reads past" in r["reason"], r
    if app == "plite-seg-java":
        # 2. the 2-entry colour map, not edited: a 19-class label map throws
        bad = _variant(good, tmp_path, "colours")
        (bad / "app_edits.json").unlink()
        r = _check(bad)
        assert r["status"] == "failed" and "ArrayIndexOutOfBounds" in r["reason"], r
    else:
        # 2. main's settings: mean/std 0.5 on 0-255 pixels (the app does not divide by 255)
        bad = _variant(good, tmp_path, "settings")
        text = (bad / "settings_strings.xml").read_text()
        text = text.replace(">0.0,0.0,0.0<", ">0.5,0.5,0.5<").replace(">1.0,1.0,1.0<", ">0.5,0.5,0.5<")
        (bad / "settings_strings.xml").write_text(text)
        r = _check(bad)
        assert r["status"] == "failed" and "agree" in r["reason"], r


@pytest.mark.slow
def test_check_only_cli_exit_codes(cls_bundles, tmp_path):
    bundles, _, _ = cls_bundles
    ok = run_cli("bundle", "--check-only", str(bundles["plite-cls-java"]))
    assert ok.returncode == 0 and "check PASSED" in ok.stdout, ok.stdout + ok.stderr
    bad = _variant(bundles["plite-cls-java"], tmp_path, "cli_bad")
    (bad / "app_edits.json").unlink()
    r = run_cli("bundle", "--check-only", str(bad))
    assert r.returncode == 1 and "check FAILED" in r.stdout


YOLO = "YOLOv3-MobileNetV1"


@pytest.fixture(scope="module")
def yolo_bundle(tmp_path_factory):
    # The zoo's YOLOs are fixed at 608x608 (the smallest configuration it has): minutes to convert.
    out = tmp_path_factory.mktemp("yolo")
    return _bundle("plite-yolo", YOLO, out), _standard_twin(YOLO)


@pytest.mark.slow
def test_yolo_bundle_meets_the_demo(yolo_bundle, tmp_path):
    good, std_twin = yolo_bundle
    r = _check(good)
    assert r["status"] == "passed" and "boxes" in r["reason"], r
    settings = (good / "settings_strings.xml").read_text()
    assert 'name="INPUT_WIDTH_DEFAULT">608<' in settings and 'name="MODEL_DIR_DEFAULT">models/' + YOLO in settings
    # main's one-input graph: the demo fills GetInput(1) and Paddle-Lite aborts
    bad = _variant(good, tmp_path, "one_input")
    shutil.copy2(std_twin, bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed" and "GetInput(1)" in r["reason"], r
    # main's settings keys (MODEL_PATH_DEFAULT, INPUT_SHAPE_DEFAULT): the demo reads MODEL_DIR_DEFAULT and
    # INPUT_WIDTH/HEIGHT_DEFAULT, so it loads its own folder at 320x320
    bad = _variant(good, tmp_path, "old_keys")
    (bad / "settings_strings.xml").write_text(_old_settings_xml(
        {"MODEL_PATH_DEFAULT": f"models/{YOLO}", "INPUT_SHAPE_DEFAULT": "1,3,608,608"}))
    r = _check(bad)
    assert r["status"] == "failed" and "yolov3_mobilenet_v3_for_cpu" in r["reason"], r
    bad = _variant(good, tmp_path, "size")
    text = (good / "settings_strings.xml").read_text().replace(">608<", ">320<")
    (bad / "settings_strings.xml").write_text(text)
    r = _check(bad)
    assert r["status"] == "failed" and "320x320" in r["reason"], r


@pytest.fixture(scope="module")
def task_classifier(tmp_path_factory):
    from edge_kit.apps.tflite_task import TaskImageClassifier
    from edge_kit.bundle import _label_names, _tflite_metadata
    from edge_kit.convert import convert
    from edge_kit.conversion.sources import zoo_source

    out = tmp_path_factory.mktemp("task")
    good = _bundle("tflite-task", CLS, out)
    # main's bundle: the standard graph's TFLite (logits) under the same 'probability' metadata
    std = next(a for a in convert(CLS, to=("tflite",), log=lambda m: None) if a.format == "tflite" and a.precision == "fp32")
    bad = out / "old"
    shutil.copytree(good, bad)
    model = bad / json.loads((good / "edgekit_bundle.json").read_text())["model_file"]
    model.unlink()
    _tflite_metadata(std, model, TaskImageClassifier.kind, _label_names(zoo_source(CLS), 1000)[1], out)
    return good, bad


@pytest.mark.slow
def test_task_image_classifier_gets_probabilities(task_classifier):
    good, bad = task_classifier
    r = _check(good)
    assert r["status"] == "passed", r
    assert json.loads((good / "edgekit_bundle.json").read_text())["app_graph"]["softmax"] is True
    r = _check(bad)
    assert r["status"] == "failed" and "score" in r["reason"], r


@pytest.mark.slow
def test_paddlex_sdk_classifier(cls_bundles, tmp_path):
    _, std_twin, out = cls_bundles
    good = _bundle("paddlex-sdk", CLS, out)
    r = _check(good)
    assert r["status"] == "passed" and len(r["app_shows"]) == 1, r
    assets = good / "app" / "src" / "main" / "assets"
    # main had no PaddleX layout: its paddlelite-demo bundle has no model/model.nb nor config/model.yml
    bad = _variant(good, tmp_path, "layout")
    shutil.rmtree(bad / "app" / "src" / "main" / "assets" / "config")
    r = _check(bad)
    assert r["status"] == "failed" and "config/model.yml" in r["reason"], r
    # the standard graph: logits, the SDK's top-1 starts from score 0
    bad = _variant(good, tmp_path, "logits")
    shutil.copy2(std_twin, bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed", r
    # a Transforms list without ResizeByShort.max_size: the SDK casts a missing key to int
    bad = _variant(good, tmp_path, "yml")
    yml = bad / "app" / "src" / "main" / "assets" / "config" / "model.yml"
    yml.write_text(yml.read_text().replace("    max_size: -1\n", ""))
    r = _check(bad)
    assert r["status"] == "failed" and "max_size" in r["reason"], r
    assert (assets / "model" / "model.nb").exists()


def test_task_segmenter_argmax_starts_at_zero():
    """image_segmenter.cc: class_index = 0, max_confidence = 0.0, a class wins only with '>': a pixel
    whose scores are all <= 0 (possible with logits, never with probabilities) shows class 0."""
    from edge_kit.apps.tflite_task import TaskImageSegmenter

    logits = np.full((1, 2, 2, 3), -1.0, np.float32)
    logits[..., 2] = -0.5                                  # true argmax: class 2 everywhere
    info = {"input_shape": [1, 3, 2, 2], "num_classes": 3,
            "metadata": {"subgraph_metadata": [{"input_tensor_metadata": [{}]}]}}
    image = np.zeros((2, 2, 3), np.uint8)
    shown = TaskImageSegmenter().replay(None, info, image, lambda inputs: [logits])
    assert (shown.mask == 0).all()
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    shown = TaskImageSegmenter().replay(None, info, image, lambda inputs: [probs])
    assert (shown.mask == 2).all()


@pytest.mark.slow
def test_task_image_segmenter_bundle(tmp_path_factory):
    """The softmax graph is read correctly. (main's logits happen to show the same mask for the untrained
    FastSCNN: every pixel has a positive logit; the unit test above shows where logits break.)"""
    out = tmp_path_factory.mktemp("task_seg")
    good = _bundle("tflite-task", SEG, out)
    r = _check(good)
    assert r["status"] == "passed", r
    assert json.loads((good / "edgekit_bundle.json").read_text())["app_graph"]["channel_softmax"] is True


# -- the PicoDet demo (object_detection/android/app/cxx/picodet_detection_demo) ---------------------------
def _picodet_app(tmp_path: Path, rows: int = 8, cols: int = 4) -> tuple[Path, dict, np.ndarray]:
    """A bundle folder the PicoDet replay can read (settings, model folder, labels) without a model."""
    from edge_kit.apps.picodet_demo import PicoDetCxx

    app = tmp_path / "app_bundle"
    assets = app / "app" / "src" / "main" / "assets"
    (assets / "models" / "m").mkdir(parents=True)
    (assets / "models" / "m" / "model.nb").write_bytes(b"nb")
    (assets / "labels").mkdir()
    (assets / "labels" / "l.txt").write_text("person\ncar\n")
    settings = {**PicoDetCxx.DEFAULTS, "MODEL_DIR_DEFAULT": "models/m", "LABEL_PATH_DEFAULT": "labels/l.txt",
                "INPUT_WIDTH_DEFAULT": "4", "INPUT_HEIGHT_DEFAULT": "4", "SCORE_THRESHOLD_DEFAULT": "0.3"}
    (app / "settings_strings.xml").write_text(_old_settings_xml(settings))
    return app, {"input_shape": [1, 3, 4, 4]}, np.zeros((rows, cols, 3), np.uint8)


def test_picodet_replay_reads_the_model_as_the_demo_does(tmp_path):
    """Pipeline.cc: GetInput(1) = float {H/rows, W/cols}; only bbox_num[0] rows of output 0 are read, boxes
    truncated to int in frame pixels; GetOutput(1) must exist; rows below SCORE_THRESHOLD are skipped."""
    from edge_kit.apps.picodet_demo import PicoDetCxx

    app, info, frame = _picodet_app(tmp_path)
    fed = {}
    rows = np.array([[1, 0.9, 1.7, 2.2, 3.9, 6.8], [0, 0.1, 0, 0, 1, 1], [0, 0.8, 0, 0, 1, 1]], np.float32)

    def run(inputs):
        fed["inputs"] = inputs
        return [rows, np.array([2], np.int32)]

    shown = PicoDetCxx().replay(app, info, frame, run)
    scale = fed["inputs"][1]
    assert scale.dtype == np.float32 and scale.tolist() == [[0.5, 1.0]]       # {4/8 rows, 4/4 cols}
    assert fed["inputs"][0].shape == (1, 3, 4, 4)
    assert len(shown.items) == 1                  # row 1 under the threshold, row 2 beyond bbox_num
    name, score, x, y, w, h = shown.items[0]
    assert name == "car" and abs(score - 0.9) < 1e-6
    assert (x, y) == (1 / 4, 2 / 8) and abs(w - (2 / 4 + 1 / 4)) < 1e-6 and abs(h - (4 / 8 + 1 / 4)) < 1e-6
    with pytest.raises(ContractBreak, match="GetOutput"):   # the YOLO demo's graph: one output
        PicoDetCxx().replay(app, info, frame, lambda inputs: [rows])
    with pytest.raises(ContractBreak, match="reads past"):
        PicoDetCxx().replay(app, info, frame, lambda inputs: [rows, np.array([5], np.int32)])


def test_picodet_boxes_must_be_in_frame_pixels(tmp_path):
    """A graph that ignores scale_factor (boxes in network pixels) draws them in the wrong place on a frame
    that is not the network's size: compare() fails it; frame-pixel boxes pass."""
    from edge_kit.apps.check import compare
    from edge_kit.apps.picodet_demo import PicoDetCxx

    app, info, frame = _picodet_app(tmp_path, rows=800, cols=400)
    info["input_shape"] = [1, 3, 400, 400]
    text = (app / "settings_strings.xml").read_text().replace(">4<", ">400<")
    (app / "settings_strings.xml").write_text(text)
    ref = PicoDetCxx().reference_as_shown(
        {"kind": "boxes", "threshold": 0.3, "input_wh": [400, 400], "rows": [["person", 0.9, 100, 100, 199, 299.7]]},
        frame)
    in_frame = np.array([[0, 0.9, 100, 200, 199, 598]], np.float32)            # y doubled: frame is 2x taller
    ok, why = compare(PicoDetCxx().replay(app, info, frame, lambda i: [in_frame, np.array([1], np.int32)]), ref, None)
    assert ok, why
    in_network = np.array([[0, 0.9, 100, 100, 199, 299]], np.float32)
    ok, why = compare(PicoDetCxx().replay(app, info, frame, lambda i: [in_network, np.array([1], np.int32)]), ref, None)
    assert not ok and "IoU" in why


# -- MediaPipe Tasks ----------------------------------------------------------------------------------
def _metadata(mean, std) -> dict:
    unit = {"options_type": "NormalizationOptions", "options": {"mean": mean, "std": std}}
    return {"subgraph_metadata": [{"input_tensor_metadata": [{"process_units": [unit]}]}]}


def test_mediapipe_refuses_per_channel_normalisation():
    """image_preprocessing_graph.cc:89-96: one float range for all channels. The Task Library bundle of an
    ImageNet classifier (per-channel mean/std) is not loaded by MediaPipe; equal values are."""
    from edge_kit.apps.mediapipe_tasks import MediaPipeImageClassifier

    image = np.full((2, 2, 3), 255, np.uint8)
    info = {"input_shape": [1, 3, 2, 2], "metadata": _metadata([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])}
    with pytest.raises(ContractBreak, match="per-channel"):
        MediaPipeImageClassifier().preprocess(image, info)
    info["metadata"] = _metadata([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    assert (MediaPipeImageClassifier().preprocess(image, info) == 255.0).all()


def test_mediapipe_segmenter_argmax_is_a_true_argmax():
    """tensors_to_segmentation_calculator.cc:185-189 (std::max_element), unlike the Task Library's
    argmax from 0.0: all-negative logits still give their argmax."""
    from edge_kit.apps.mediapipe_tasks import MediaPipeImageSegmenter

    logits = np.full((1, 2, 2, 3), -1.0, np.float32)
    logits[..., 2] = -0.5
    info = {"input_shape": [1, 3, 2, 2], "num_classes": 3, "metadata": _metadata([127.5] * 3, [127.5] * 3)}
    shown = MediaPipeImageSegmenter().replay(None, info, np.zeros((2, 2, 3), np.uint8), lambda inputs: [logits])
    assert (shown.mask == 2).all()


PICODET = "plite-picodet"


@pytest.mark.slow
def test_picodet_bundle_meets_the_demo(yolo_bundle, tmp_path):
    """edgekit's YOLOv3 under the PicoDet demo's contract: the check frame is twice as tall as the network
    input, so scale_factor is (0.5, 1.0) and the boxes must come out in frame pixels."""
    _, std_twin = yolo_bundle
    good = _bundle(PICODET, YOLO, tmp_path)
    r = _check(good)
    assert r["status"] == "passed" and "boxes" in r["reason"], r
    info = json.loads((good / "edgekit_bundle.json").read_text())
    assert info["app_graph"] == {"kind": "picodet", "bgr_input": True}
    frame = (good / info["test_image"])
    from PIL import Image

    assert Image.open(frame).size == (608, 1216)
    settings = (good / "settings_strings.xml").read_text()
    assert 'name="MODEL_DIR_DEFAULT">models/' + YOLO in settings and 'name="INPUT_HEIGHT_DEFAULT">608<' in settings
    # main's bundle (the standard one-input graph): the demo fills GetInput(1) and Paddle-Lite aborts
    bad = _variant(good, tmp_path, "one_input")
    shutil.copy2(std_twin, bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed" and "GetInput(1)" in r["reason"], r
    # the YOLO demo's graph (int32 im_size input, one output, network-pixel boxes) is not this app's
    bad = _variant(good, tmp_path, "yolo_graph")
    shutil.copy2(yolo_bundle[0] / "edgekit_check" / "model.x86.nb", bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed", r


# -- PaddleX Android SDK: segmenter and YOLOv3 detector ------------------------------------------------
def _paddlex_app(tmp_path: Path, contract, names: list[str], input_hw=(4, 4)) -> Path:
    from types import SimpleNamespace

    from edge_kit.zoo.registry import Preprocess

    src = SimpleNamespace(name="m", input_shape=(1, 3, *input_hw), weights=None,
                          preprocess=Preprocess(resize=input_hw, resize_short=None, mean=(0.5,) * 3, std=(0.5,) * 3))
    app = tmp_path / contract.name
    assets = app / "app" / "src" / "main" / "assets"
    for rel, text in (("model/model.nb", "nb"), ("config/model.yml", contract.model_yml(src, names))):
        (assets / rel).parent.mkdir(parents=True, exist_ok=True)
        (assets / rel).write_text(text)
    edits = contract.edits_for(src, "m", len(names))
    (app / "app_edits.json").write_text(json.dumps({"edits": [e.as_dict() for e in edits]}))
    return app


def test_paddlex_segmenter_reads_label_and_score_maps(tmp_path):
    """Predictor.java:146-159: getLongData() label map, then getOutput(1) float scores whose class-1 plane
    Visualize.java draws as alpha*255."""
    from edge_kit.apps.paddlex_sdk import PaddleXSegmenter

    app = _paddlex_app(tmp_path, PaddleXSegmenter(), ["bg", "person"])
    frame = np.zeros((8, 6, 3), np.uint8)
    logits = np.zeros((1, 2, 4, 4), np.float32)
    logits[0, 1, :2] = 3.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    label = np.argmax(logits, 1)
    fed = {}

    def run(inputs):
        fed["x"] = inputs
        return [label.astype(np.int64), probs]

    shown = PaddleXSegmenter().replay(app, {}, frame, run)
    assert fed["x"][0].shape == (1, 3, 4, 4) and len(fed["x"]) == 1 and (shown.mask == label[0]).all()
    with pytest.raises(ContractBreak, match="getLongData"):       # main's int32 label map
        PaddleXSegmenter().replay(app, {}, frame, lambda i: [label.astype(np.int32)])
    with pytest.raises(ContractBreak, match="getOutput\\(1\\)"):  # one output
        PaddleXSegmenter().replay(app, {}, frame, lambda i: [label.astype(np.int64)])
    with pytest.raises(ContractBreak, match="255"):               # logits as the score map
        PaddleXSegmenter().replay(app, {}, frame, lambda i: [label.astype(np.int64), logits])


def test_paddlex_detector_feeds_the_original_size(tmp_path):
    """Predictor.java:97-101: Model 'YOLOv3' gets getInput(1) = int32 {height, width} of the ORIGINAL image;
    rows come back in its pixels; Visualize.java:45 draws from 0.5 (edited for untrained weights)."""
    from edge_kit.apps.paddlex_sdk import PaddleXDetector

    app = _paddlex_app(tmp_path, PaddleXDetector(), ["person", "car"])
    assert "0.01" in json.loads((app / "app_edits.json").read_text())["edits"][0]["new"]
    frame = np.zeros((8, 4, 3), np.uint8)
    fed = {}
    rows = np.array([[1, 0.5, 1.0, 2.0, 3.0, 6.0], [0, 0.001, 0, 0, 1, 1]], np.float32)

    def run(inputs):
        fed["x"] = inputs
        return [rows]

    shown = PaddleXDetector().replay(app, {}, frame, run)
    assert fed["x"][1].dtype == np.int32 and fed["x"][1].tolist() == [[8, 4]]
    assert [s[0] for s in shown.items] == ["car"]
    _, _, x, y, w, h = shown.items[0]
    assert (x, y) == (1 / 4, 2 / 8) and abs(w - (2 / 4 + 1 / 4)) < 1e-6 and abs(h - (4 / 8 + 1 / 4)) < 1e-6
    (app / "app_edits.json").write_text(json.dumps({"edits": []}))   # the SDK as shipped: 0.5
    assert [s[0] for s in PaddleXDetector().replay(app, {}, frame, run).items] == ["car"]
    rows[0, 1] = 0.3
    assert PaddleXDetector().replay(app, {}, frame, run).items == []


@pytest.mark.slow
def test_mediapipe_classifier_bundle(task_classifier, tmp_path):
    """MediaPipe takes one normalisation range for all channels: its bundle folds ImageNet's per-channel
    mean/std into the graph (metadata mean 0, std 1); the Task Library bundle is refused by it."""
    good = _bundle("mediapipe", CLS, tmp_path)
    r = _check(good)
    assert r["status"] == "passed", r
    info = json.loads((good / "edgekit_bundle.json").read_text())
    unit = info["metadata"]["subgraph_metadata"][0]["input_tensor_metadata"][0]["process_units"][0]
    assert unit["options"] == {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
    assert info["app_graph"]["pixel_norm"]["std"] == [0.229, 0.224, 0.225]
    task_bundle = _variant(task_classifier[0], tmp_path, "task_for_mediapipe")
    meta = json.loads((task_bundle / "edgekit_bundle.json").read_text())
    (task_bundle / "edgekit_bundle.json").write_text(json.dumps({**meta, "app": "mediapipe-classifier"}))
    r = _check(task_bundle)
    assert r["status"] == "failed" and "per-channel" in r["reason"], r


@pytest.mark.slow
def test_mediapipe_segmenter_takes_the_task_library_file(tmp_path):
    good = _bundle("mediapipe", SEG, tmp_path)
    r = _check(good)
    assert r["status"] == "passed", r
    task = _bundle("tflite-task", SEG, tmp_path)
    mine, theirs = (json.loads((b / "edgekit_bundle.json").read_text()) for b in (good, task))
    # the same converted file under the same metadata (the packed labels.txt differs only in its zip timestamp)
    for key in ("sha256", "metadata", "associated_files", "app_graph"):
        assert mine[key] == theirs[key], key


@pytest.mark.slow
def test_paddlex_sdk_segmenter_bundle(seg_bundles, tmp_path):
    """main refused it; now: int64 label map + probability score map, checked by replay. The plite-seg-cxx
    graph (int64 label map only) is what the SDK cannot take: it reads getOutput(1)."""
    good = _bundle("paddlex-sdk", SEG, tmp_path)
    r = _check(good)
    assert r["status"] == "passed", r
    assert "segmenter" in (good / "app" / "src" / "main" / "assets" / "config" / "model.yml").read_text()
    bad = _variant(good, tmp_path, "one_output")
    shutil.copy2(seg_bundles[0]["plite-seg-cxx"] / "edgekit_check" / "model.x86.nb", bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed", r


@pytest.mark.slow
def test_paddlex_sdk_yolo_bundle(yolo_bundle, tmp_path):
    """main refused it; now: the original frame's {height, width} as im_size (a frame twice as tall as the
    network input), boxes in its pixels. The YOLO demo's graph ({width, height}, swapped) fails it."""
    good = _bundle("paddlex-sdk", YOLO, tmp_path)
    r = _check(good)
    assert r["status"] == "passed" and "boxes" in r["reason"], r
    assert json.loads((good / "app_edits.json").read_text())["edits"][0]["file"].endswith("Visualize.java")
    bad = _variant(good, tmp_path, "wh_graph")
    shutil.copy2(yolo_bundle[0] / "edgekit_check" / "model.x86.nb", bad / "edgekit_check" / "model.x86.nb")
    r = _check(bad)
    assert r["status"] == "failed", r
