"""Assets an Android app drops in, made to the app's contract as its source reads it (edge_kit.apps):
Paddle-Lite-Demo's classification / segmentation apps (C++ and Java), the TFLite Task Library's
ImageClassifier / ImageSegmenter.

The model/app pair is checked before converting. Where the app demands it the graph is adapted
(softmax, int64 label maps, B,G,R input, preprocessing folded in: edge_kit.apps.graph) and converted as
its own verified artifact; settings the app reads from strings.xml go to settings_strings.xml; settings
the app hard-codes become exact edits (app_edits.json / APP_EDITS.md). Every bundle carries a test image
and what edgekit's reference says the app should show for it; `check=True` replays the app on the x86
twin and fails the bundle on a contract break.
"""
from __future__ import annotations

import dataclasses
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

TASK_LABELS = {"detection": "coco_labels.txt", "semantic_segmentation": "cityscapes_labels.txt"}
CHECK_IMAGE_HW = (360, 480)     # a camera-like 3:4 frame, not the network's size: the app resizes it


def _label_names(src, num_classes: int) -> tuple[str, list[str]]:
    """(file name, names). A zoo model's untrained weights have no meaningful class names."""
    if src.labels:
        return "labels.txt", list(src.labels)
    if src.task in TASK_LABELS:
        name = TASK_LABELS[src.task]
        return name, resources.files("edge_kit").joinpath(f"data/{name}").read_text().splitlines()
    return "labels.txt", [f"class_{i}" for i in range(num_classes)]


def _num_outputs(art: Artifact) -> int:
    """A user's classifier without a label list: one placeholder per output score, not 1000."""
    shape = (art.manifest.outputs or [{}])[0].get("shape") or [0]
    return max(1, int(shape[-1])) if shape[-1] and shape[-1] > 0 else 1


def _sample_image(path: Path, src, contract) -> None:
    """The test picture. An untrained detector scores like a detector only on the images its objectness
    prior was calibrated on, so a zoo YOLO without weights gets its first calibration image, lossless
    (PNG) and at the network size (the app's resize is then exact)."""
    from PIL import Image

    from edge_kit.images import natural_image, natural_images

    path.parent.mkdir(parents=True, exist_ok=True)
    if src.task == "detection" and src.kind == "zoo" and not src.weights:
        from edge_kit.zoo.build import CALIB_PIXELS, CALIB_SEED

        _, _, h, w = src.input_shape
        img = natural_images(max(2, min(8, CALIB_PIXELS // (h * w))), h, w, CALIB_SEED)[0]
    else:
        img = natural_image(*CHECK_IMAGE_HW, seed=2024)
    img = contract.camera_frame(img)
    Image.fromarray(img).save(path, **({"quality": 92} if path.suffix == ".jpg" else {}))


def _strings_xml(settings: dict) -> str:
    rows = "\n".join(f'    <string name="{k}">{v}</string>' for k, v in settings.items())
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!-- edgekit: replace these keys in the app\'s '
            'res/values/strings.xml -->\n<resources>\n' + rows + "\n</resources>\n")


def _edits_md(contract, edits) -> str:
    rows = [f"# Edits {contract.title} needs\n", f"Source: {contract.repo}@{contract.commit[:12]}\n"]
    for e in edits:
        rows.append(f"## `{e.file}` line {e.line}\n\n{e.why}\n\n```diff\n- {e.old}\n+ {e.new}\n```\n")
    if contract.runtime_note():
        rows.append(f"## Runtime version\n\n{contract.runtime_note()}\n")
    return "\n".join(rows)


def _adapted_pipeline(src, contract, log):
    """The Pipeline converting the graph this app needs (the standard one when it needs none)."""
    from edge_kit.apps import graph as app_graphs
    from edge_kit.conversion.stages import Pipeline
    from edge_kit.conversion.sources import Source

    adapt = contract.app_graph(src)
    if not adapt:
        return Pipeline(src, log)

    class AppSource(Source):
        def parity_inputs(self):
            x = super().parity_inputs()
            if self.kind == "zoo" and self.task == "detection" and not self.weights and adapt.get("bgr_input"):
                # calibration images come normalised R,G,B; the app feeds B,G,R (mean/std reversed to match)
                x = np.ascontiguousarray(x[:, ::-1])
            return x

    class AppPipeline(Pipeline):
        def extra_inputs(self, images):
            if adapt.get("kind") == "picodet":
                return contract.extra_parity_input(len(images))
            if adapt.get("kind") != "yolo":
                return {}
            n, _, h, w = images.shape   # the YOLO demo's im_size: {width, height} of the network input
            return {"im_size": np.tile(np.array([[w, h]], np.int32), (n, 1))}

    fields = {f.name: getattr(src, f.name) for f in dataclasses.fields(src)}
    app_src = AppSource(**{**fields, "preprocess": contract.app_preprocess(src)})
    pipe = AppPipeline(app_src, log)
    # Per-class scores (not a label map) are compared the way raw graphs are: argmax, then agreement.
    pipe.app_graph_name = "raw" if adapt.get("channel_softmax") else "deploy"
    pipe.graphs = {pipe.app_graph_name: {"app_graph": {**adapt, "code": app_graphs.code_hash()}}}
    return pipe


def _convert_for(src, contract, precision: str, lite_target: str, log) -> tuple[Artifact, Optional[Artifact]]:
    """(the artifact the phone loads, the x86 twin the check runs), both verified against the
    adapted graph's own Paddle reference."""
    from edge_kit.conversion.run import _inherit_twin
    from edge_kit.errors import ConversionError

    pipe = _adapted_pipeline(src, contract, log)
    pipe.reference(getattr(pipe, "app_graph_name", "deploy"))
    try:
        if contract.runtime == "paddlelite":
            twin = pipe.lite("x86", "fp32")
            art = pipe.lite(lite_target, precision)
            _inherit_twin(art, twin)
        else:
            onnx_art = pipe.onnx()
            if not onnx_art.ok:
                raise EdgekitError(f"not bundling: the ONNX step failed ({(onnx_art.manifest.parity or {}).get('reason')})")
            art = next(a for a in pipe.tflite(onnx_art) if a.precision == precision)
            twin = None
    except ConversionError as err:
        raise EdgekitError(f"not bundling: {err}") from None
    if not art.ok:
        why = (art.manifest.parity or {}).get("reason") or art.manifest.reason
        raise EdgekitError(f"not bundling: the {art.format} {art.target} {art.precision} artifact is not verified ({why})")
    return art, twin


def _reference(src, log, image: np.ndarray, names: list[str], contract) -> tuple[dict, Optional[np.ndarray]]:
    """What a correct app shows for `image`: the standard graph (Paddle Inference), edgekit's own
    normalisation after the app's own resizing to the network size."""
    from converters.isolate import run_isolated
    from converters.paddle_source import LEGACY_ENV, load_outputs
    from edge_kit.conversion.reference import child_reference_outputs
    from edge_kit.apps.check import reference_view
    from edge_kit.images import preprocess
    from edge_kit.conversion.stages import Pipeline

    ref = Pipeline(src, log).reference("deploy")
    x = preprocess(contract.geometry_for_reference(image, src)[None], src.preprocess)
    with tempfile.TemporaryDirectory(prefix="edgekit-ref-") as tmp:
        np.savez(Path(tmp) / "in.npz", image=x)
        run_isolated(child_reference_outputs,
                     {"program": str(ref.path), "params": str(ref.path.with_suffix(".pdiparams")),
                      "inputs_npz": str(Path(tmp) / "in.npz"), "out_npz": str(Path(tmp) / "out.npz")},
                     model=src.name, stage="bundle reference", tool="Paddle Inference", env=LEGACY_ENV)
        outputs = load_outputs(str(Path(tmp) / "out.npz"))[0]
    view, mask = reference_view(src.task, outputs, names)
    view["source"] = (f"Paddle Inference on {src.name}'s standard graph ({ref.path.name}), input resized as the "
                      f"app does, normalised as the manifest says ({src.preprocess.as_dict()})")
    return view, mask


def _tflite_metadata(art: Artifact, out: Path, kind: str, names: list[str], work: Path) -> dict:
    from converters import tflite_metadata
    from converters.isolate import run_isolated
    from edge_kit.infer import run_tflite

    tflite_metadata.location()  # a one-line error naming where it looked and how to install
    tflite_metadata.check_libusb()
    label_path = work / "labels.txt"
    label_path.write_text("\n".join(names) + "\n")
    pre = art.manifest.preprocess
    # Task Library feeds pixels and normalises (p - mean) / std in pixel units.
    mean = [v / pre["scale"] for v in pre["mean"]]
    std = [v / pre["scale"] for v in pre["std"]]
    shown = run_isolated(tflite_metadata.child_write_metadata,
                         {"model_in": str(art.path), "model_out": str(out), "kind": kind, "mean": mean, "std": std,
                          "labels_file": str(label_path)}, model=art.model, stage="tflite metadata",
                         tool="tflite-support metadata writer")
    label_path.unlink()
    # Metadata must not change what the model computes: same outputs, bit for bit.
    x = np.random.default_rng(0).standard_normal(art.manifest.inputs[0]["shape"], dtype=np.float32)
    x = x.transpose(0, 3, 1, 2) if art.manifest.inputs[0].get("layout") == "NHWC" else x
    before, after = run_tflite(art.path, [x]), run_tflite(out, [x])
    if any(not np.array_equal(a, b) for a, b in zip(before[0], after[0])):
        raise EdgekitError(f"{out.name}: adding metadata changed the model's outputs; not bundling it")
    return {"metadata": shown["metadata"], "associated_files": shown["associated_files"],
            "outputs_unchanged_by_metadata": True}


def bundle(model: Optional[str] = None, *, app: str, out_dir: str, precision: str = "fp32",
           lite_target: str = "arm", paddle_model: Optional[str] = None, onnx: Optional[str] = None,
           weights: Optional[str] = None, seed: int = 0, check: bool = False, log=None,
           options: Optional[dict] = None) -> Path:
    from edge_kit.apps import resolve_app
    from edge_kit.apps.check import CHECK_DIR, check_bundle
    from edge_kit.conversion.run import _stderr, resolve_source

    log = log or _stderr
    src = resolve_source(model, paddle_model=paddle_model, onnx=onnx, weights=weights, seed=seed,
                         options=options)
    if src.kind != "zoo" and src.task == "unknown":
        raise EdgekitError(f"not bundling {src.name}: its task is unknown (no toolkit config beside it says); "
                           "a demo app needs one: pass --task")
    contract = resolve_app(app, src.task)
    # Everything that can refuse does so before any conversion.
    why = contract.refuse(src)
    if why:
        raise EdgekitError(f"not bundling {src.name} for {contract.title}: {why}")
    if contract.app_graph(src) and src.kind != "zoo":
        raise EdgekitError(f"{contract.title} needs an adapted graph ({contract.app_graph(src)}); edgekit builds it "
                           f"for zoo models only: export your model with those ops, or use a zoo model")
    if contract.runtime == "paddlelite" and src.kind == "onnx":
        raise EdgekitError("Paddle-Lite apps need a Paddle program; from ONNX edgekit makes onnx and tflite only")
    if contract.runtime == "tflite":
        from converters import tflite_metadata

        # Say what is missing before minutes of conversion, not after.
        tflite_metadata.location()
        tflite_metadata.check_libusb()

    art, twin = _convert_for(src, contract, precision, lite_target, log)
    name = art.model
    label_file, names = _label_names(src, src.spec.num_classes if src.spec else _num_outputs(art))
    dest = Path(out_dir) / f"{name}-{contract.name}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        paths = contract.asset_paths(name, label_file)
        model_file = work / paths["model"]
        model_file.parent.mkdir(parents=True, exist_ok=True)
        image_rel = paths.get("image", "edgekit_check/edgekit_sample.jpg")
        _sample_image(work / image_rel, src, contract)
        details: dict = {}
        if contract.runtime == "paddlelite":
            shutil.copy2(art.path, model_file)
            if "labels" in paths:
                (work / paths["labels"]).parent.mkdir(parents=True, exist_ok=True)
                (work / paths["labels"]).write_bytes(contract.label_text(names).encode())
            if "yml" in paths:
                (work / paths["yml"]).parent.mkdir(parents=True, exist_ok=True)
                (work / paths["yml"]).write_text(contract.model_yml(src, names))
            settings = contract.settings(src, name, label_file)
            if settings:
                (work / "settings_strings.xml").write_text(_strings_xml(settings))
            details["settings"] = settings
        else:
            details.update(_tflite_metadata(art, model_file, contract.kind, names, work))
        edits = contract.edits_for(src, name, len(names))
        if edits or contract.runtime_note():
            (work / "app_edits.json").write_text(json.dumps({"app": contract.name, "source": f"{contract.repo}@"
                                                             f"{contract.commit}", "edits": [e.as_dict() for e in edits],
                                                             "runtime": contract.runtime_note()}, indent=2) + "\n")
            (work / "APP_EDITS.md").write_text(_edits_md(contract, edits))
        (work / CHECK_DIR).mkdir(exist_ok=True)
        if twin is not None:
            shutil.copy2(twin.path, work / CHECK_DIR / "model.x86.nb")
        from PIL import Image

        ref, mask = _reference(src, log, np.asarray(Image.open(work / image_rel).convert("RGB")), names, contract)
        if src.task == "detection":
            ref["threshold"] = contract.draw_threshold(src, details.get("settings") or {})
            ref["input_wh"] = [src.input_shape[3], src.input_shape[2]]
        (work / CHECK_DIR / "reference.json").write_text(json.dumps(ref, indent=2) + "\n")
        if mask is not None:
            np.save(work / CHECK_DIR / "reference_mask.npy", mask)
        summary = {"app": contract.name, "app_title": contract.title, "model": name, "artifact": art.path.name,
                   "sha256": art.manifest.sha256, "parity": art.manifest.parity_status,
                   "verified_by": (art.manifest.parity or {}).get("x86_twin"), "labels": label_file,
                   "num_classes": len(names), "labels_text": "\n".join(names),
                   "weights": (art.manifest.source or {}).get("weights"), "graph": art.manifest.graph,
                   "app_graph": contract.app_graph(src), "preprocess_in_app": art.manifest.preprocess,
                   "input_shape": list(src.input_shape), "model_file": paths["model"], "test_image": image_rel,
                   "contract": contract.describe(), "edits": [e.as_dict() for e in edits],
                   "runtime_note": contract.runtime_note(), **details}
        (work / "edgekit_bundle.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        shutil.copy2(art.path.with_name(art.path.name + ".manifest.json"), work / "artifact.manifest.json")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if check:
        result = check_bundle(dest)
        if result["status"] != "passed":
            raise EdgekitError(f"{dest}: bundle check FAILED for {contract.title}: {result['reason']}")
    return dest

