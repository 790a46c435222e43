"""Assets an Android app drops in: a Paddle-Lite demo app (Paddle-Lite-Demo's Java/C++ apps read
models/<name>/model.nb, a label file and their settings keys), or a TFLite Task Library app
(ImageClassifier / ImageSegmenter read normalization and labels from the model's metadata).

Only verified artifacts are bundled: a failed parity check stops the bundle.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Optional

import numpy as np

from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact

APPS = ("paddlelite-demo", "tflite-task")
TASK_LABELS = {"detection": "coco_labels.txt", "semantic_segmentation": "cityscapes_labels.txt"}


def _labels(art: Artifact, source_labels: list[str], num_classes: int) -> tuple[str, str]:
    """(file name, text). A zoo model's untrained weights have no meaningful class names."""
    if source_labels:
        return "labels.txt", "\n".join(source_labels) + "\n"
    task = art.manifest.get("task")
    if task in TASK_LABELS:
        name = TASK_LABELS[task]
        return name, resources.files("edge_kit").joinpath(f"data/{name}").read_text()
    return "labels.txt", "\n".join(f"class_{i}" for i in range(num_classes)) + "\n"


def _num_outputs(art: Artifact) -> int:
    """A user's classifier without a label list: one placeholder per output score, not 1000."""
    shape = (art.manifest.get("outputs") or [{}])[0].get("shape") or [0]
    return max(1, int(shape[-1])) if shape[-1] and shape[-1] > 0 else 1


def _sample_jpeg(path: Path, hw: tuple[int, int]) -> None:
    from PIL import Image

    from edge_kit.images import natural_image

    Image.fromarray(natural_image(hw[0], hw[1], seed=2024)).save(path, quality=92)


def _demo_settings(art: Artifact, model_dir: str, label_file: str) -> dict:
    m = art.manifest
    pre = m["preprocess"]
    # a dynamic dim (-1) means nothing to the demo app: give it the shape the artifact was verified at
    shape = (m.get("accepts") or {}).get("verified_at") or m["inputs"][0]["shape"]
    settings = {"MODEL_PATH_DEFAULT": f"models/{model_dir}", "LABEL_PATH_DEFAULT": f"labels/{label_file}",
                "IMAGE_PATH_DEFAULT": "images/edgekit_sample.jpg", "CPU_THREAD_NUM_DEFAULT": "1",
                "CPU_POWER_MODE_DEFAULT": "LITE_POWER_HIGH", "INPUT_COLOR_FORMAT_DEFAULT": pre["channel_order"],
                "INPUT_SHAPE_DEFAULT": ",".join(str(d) for d in shape),
                "INPUT_MEAN_DEFAULT": ",".join(f"{v:g}" for v in pre["mean"]),
                "INPUT_STD_DEFAULT": ",".join(f"{v:g}" for v in pre["std"])}
    if m.get("task") == "detection":
        settings["SCORE_THRESHOLD_DEFAULT"] = "0.5"
    return settings


def _strings_xml(settings: dict) -> str:
    rows = "\n".join(f'    <string name="{k}">{v}</string>' for k, v in settings.items())
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!-- edgekit: replace these keys in the demo\'s '
            'res/values/strings.xml -->\n<resources>\n' + rows + "\n</resources>\n")


def _paddlelite_demo(art: Artifact, labels: tuple[str, str], work: Path, name: str) -> dict:
    assets = work / "app" / "src" / "main" / "assets"
    for sub in ("models/" + name, "labels", "images"):
        (assets / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(art.path, assets / "models" / name / "model.nb")
    (assets / "labels" / labels[0]).write_text(labels[1])
    shape = (art.manifest.get("accepts") or {}).get("verified_at") or art.manifest["inputs"][0]["shape"]
    _sample_jpeg(assets / "images" / "edgekit_sample.jpg", tuple(shape[2:]))
    settings = _demo_settings(art, name, labels[0])
    (work / "settings_strings.xml").write_text(_strings_xml(settings))
    return {"settings": settings, "model_file": f"app/src/main/assets/models/{name}/model.nb"}


def _tflite_task(art: Artifact, labels: tuple[str, str], work: Path, name: str) -> dict:
    from converters import tflite_metadata
    from converters.isolate import run_isolated
    from edge_kit.infer import run_tflite

    task = art.manifest.get("task")
    kind = {"classification": "image_classifier", "semantic_segmentation": "image_segmenter"}.get(task)
    if kind is None:
        raise EdgekitError(f"the TFLite Task Library has no writer for {task} models edgekit makes: its ObjectDetector "
                           "needs SSD-style TFLite_Detection_PostProcess outputs, and edgekit's YOLO TFLite carries raw "
                           "heads (decode on the host as the manifest says); use --app paddlelite-demo")
    if not tflite_metadata.available():
        raise EdgekitError("tflite-support's metadata writers are missing; run scripts/setup.sh")
    assets = work / "app" / "src" / "main" / "assets"
    assets.mkdir(parents=True)
    label_path = work / labels[0]
    label_path.write_text(labels[1])
    out = assets / f"{name}.tflite"
    pre = art.manifest["preprocess"]
    # Task Library feeds uint8 pixels and normalises (p - mean) / std in pixel units.
    mean = [v / pre["scale"] for v in pre["mean"]]
    std = [v / pre["scale"] for v in pre["std"]]
    shown = run_isolated("converters.tflite_metadata:child_write_metadata",
                         {"model_in": str(art.path), "model_out": str(out), "kind": kind, "mean": mean, "std": std,
                          "labels_file": str(label_path)}, model=name, stage="tflite metadata",
                         tool="tflite-support metadata writer")
    label_path.unlink()
    # Metadata must not change what the model computes: same outputs, bit for bit.
    x = np.random.default_rng(0).standard_normal(art.manifest["inputs"][0]["shape"], dtype=np.float32)
    x = x.transpose(0, 3, 1, 2) if art.manifest["inputs"][0].get("layout") == "NHWC" else x
    before, after = run_tflite(art.path, [x]), run_tflite(out, [x])
    if any(not np.array_equal(a, b) for a, b in zip(before[0], after[0])):
        raise EdgekitError(f"{out.name}: adding metadata changed the model's outputs; not bundling it")
    note = ("the model outputs logits, not probabilities: the Task Library ranks them correctly but shows them "
            "as scores" if task == "classification" else "outputs are per-class logits (NHWC); the Task Library "
            "takes the argmax as the category mask")
    return {"model_file": f"app/src/main/assets/{name}.tflite", "metadata": shown["metadata"], "note": note,
            "associated_files": shown["associated_files"], "outputs_unchanged_by_metadata": True}


def bundle(model: Optional[str] = None, *, app: str, out_dir: str, precision: str = "fp32",
           lite_target: str = "arm", paddle_model: Optional[str] = None, onnx: Optional[str] = None,
           weights: Optional[str] = None, seed: int = 0, log=None, options: Optional[dict] = None) -> Path:
    from edge_kit.convert import _stderr, convert, resolve_source

    if app not in APPS:
        raise EdgekitError(f"unknown app {app!r}; choose from {', '.join(APPS)}")
    fmt = "paddlelite" if app == "paddlelite-demo" else "tflite"
    kwargs = dict(paddle_model=paddle_model, onnx=onnx, weights=weights, seed=seed, options=options)
    arts = convert(model, to=(fmt,), precisions=(precision,), lite_targets=(lite_target,), log=log or _stderr,
                   **kwargs)
    want = lite_target if fmt == "paddlelite" else "cpu"
    art = next((a for a in arts if a.format == fmt and a.target == want and a.precision == precision), None)
    if art is None or not art.ok:
        why = (art.manifest.get("parity", {}).get("reason") or art.manifest.get("reason")) if art else "not produced"
        raise EdgekitError(f"not bundling: the {fmt} {want} {precision} artifact is not verified ({why})")
    src = resolve_source(model, **kwargs)
    name = art.model
    if src.kind != "zoo" and src.task == "unknown":
        raise EdgekitError(f"not bundling {src.name}: its task is unknown (no toolkit config beside it says); "
                           "a demo app needs one: pass --task")
    labels = _labels(art, src.labels, (src.spec.num_classes if src.spec else _num_outputs(art)))
    dest = Path(out_dir) / f"{name}-{app}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        details = (_paddlelite_demo if app == "paddlelite-demo" else _tflite_task)(art, labels, work, name)
        summary = {"app": app, "model": name, "artifact": art.path.name, "sha256": art.manifest["sha256"],
                   "parity": art.manifest.get("parity", {}).get("status"),
                   "verified_by": art.manifest.get("parity", {}).get("x86_twin"), "labels": labels[0],
                   "weights": art.manifest.get("source", {}).get("weights"),
                   "preprocess": art.manifest["preprocess"], "postprocess": art.manifest.get("postprocess"),
                   **details}
        (work / "edgekit_bundle.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        shutil.copy2(art.path.with_name(art.path.name + ".manifest.json"), work / "artifact.manifest.json")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest
