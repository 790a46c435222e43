"""Accuracy of an artifact on the user's labelled data, in the formats users have.

  classification   ImageNet-style class folders (DIR/<class>/*.jpg; folder names that are all integers are
                   the class ids, otherwise the sorted folder order is, as torchvision's ImageFolder and
                   PaddleClas's `ImageNetDataset` number them), or PaddleClas's file list: a
                   `*_list.txt` of `relative/path.jpg LABEL` lines (a `label_list.txt` of `ID name` lines
                   beside it is only read for names)                              -> top-1, top-5
  detection        COCO: an annotations json (images/annotations/categories) and the images it names
                   (beside it, or in images/, val2017/); model class i is the i-th category id in
                   ascending order (PaddleDetection's catid2clsid)              -> mAP@[.5:.95], AP50 (pycocotools)
  segmentation     images/ + masks/ (or annotations/, labels/) PNG pairs matched by file stem, mask pixel =
                   class id, 255 = ignore                                        -> mIoU, pixel accuracy

Every image is preprocessed as the artifact's manifest says (edge_kit.datasets.load_image), run on this
host with the runtime that verifies it (edge_kit.infer), and post-processed as in parity checks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edge_kit.datasets import DatasetError, image_files, load_image, preprocess_from_manifest
from edge_kit.zoo.registry import Preprocess

MASK_DIRS = ("masks", "annotations", "labels", "gt")
IGNORE = 255


@dataclass
class Dataset:
    kind: str                          # "class_folders" | "paddleclas_list" | "coco" | "mask_pairs"
    task: str                          # the task it evaluates
    root: Path
    items: list = field(default_factory=list)   # (image path, label) / image records / (image, mask)
    info: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {"path": str(self.root.resolve()), "format": self.kind, "images": len(self.items), **self.info}


def _is_int(s: str) -> bool:
    return s.isdigit()


def find_dataset(root: str) -> Dataset:
    """Recognise the format of DIR (or a COCO .json file) and list its labelled items."""
    p = Path(root)
    if not p.exists():
        raise DatasetError(f"dataset {root} does not exist")
    if p.is_file() and p.suffix == ".json":
        return _coco(p)
    if not p.is_dir():
        raise DatasetError(f"dataset {root}: give a directory (or a COCO .json)")
    jsons = [j for j in list(p.glob("*.json")) + list((p / "annotations").glob("*.json")) if _looks_coco(j)]
    if jsons:
        if len(jsons) > 1:
            raise DatasetError(f"{root} holds several COCO json files ({', '.join(j.name for j in jsons)}); "
                               "pass the one to evaluate: --data FILE.json")
        return _coco(jsons[0])
    lists = sorted(f for f in p.glob("*list*.txt") if f.name not in ("label_list.txt", "labels_list.txt"))
    if lists:
        if len(lists) > 1:
            pick = [f for f in lists if f.name.startswith(("val", "test"))]
            if len(pick) != 1:
                raise DatasetError(f"{root} holds several file lists ({', '.join(f.name for f in lists)}); "
                                   "keep one (e.g. val_list.txt)")
            lists = pick
        return _paddleclas(p, lists[0])
    images_dir = p / "images"
    mask_dir = next((p / d for d in MASK_DIRS if (p / d).is_dir()), None)
    if images_dir.is_dir() and mask_dir is not None:
        return _mask_pairs(p, images_dir, mask_dir)
    classes = sorted(d for d in p.iterdir() if d.is_dir() and image_files(d))
    if classes:
        return _class_folders(p, classes)
    raise DatasetError(f"{root}: no dataset found: expected class folders (DIR/<class>/*.jpg), a PaddleClas "
                       "*_list.txt, a COCO json, or images/ + masks/ PNG pairs")


def _class_folders(root: Path, classes: list[Path]) -> Dataset:
    names = [d.name for d in classes]
    numeric = all(_is_int(n) for n in names)
    ids = {n: (int(n) if numeric else i) for i, n in enumerate(names)}
    items = [(f, ids[d.name]) for d in classes for f in image_files(d)]
    how = "folder names are the class ids" if numeric else "class id = position of the folder name in sorted order"
    return Dataset("class_folders", "classification", root, items,
                   {"classes": len(names), "class_ids": how})


def _paddleclas(root: Path, list_file: Path) -> Dataset:
    items = []
    for n, line in enumerate(list_file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 2 or not _is_int(parts[-1]):
            raise DatasetError(f"{list_file}:{n}: expected 'relative/path.jpg LABEL', got {line.strip()!r}")
        img = root / " ".join(parts[:-1])
        if not img.is_file():
            raise DatasetError(f"{list_file}:{n}: {img} does not exist")
        items.append((img, int(parts[-1])))
    if not items:
        raise DatasetError(f"{list_file} lists no images")
    return Dataset("paddleclas_list", "classification", root, items, {"list": list_file.name})


def _looks_coco(path: Path) -> bool:
    try:
        with open(path) as f:
            head = f.read(4096)
        return '"images"' in head or '"annotations"' in head or '"categories"' in head
    except OSError:
        return False


def _coco(ann: Path) -> Dataset:
    try:
        doc = json.loads(ann.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{ann}: not a readable COCO json ({exc})") from None
    missing = [k for k in ("images", "annotations", "categories") if k not in doc]
    if missing:
        raise DatasetError(f"{ann}: not a COCO detection json (missing {', '.join(missing)})")
    base = ann.parent.parent if ann.parent.name == "annotations" else ann.parent
    dirs = [base, base / "images", ann.parent, ann.parent / "images"] + sorted(d for d in base.glob("*2017"))
    records = []
    for im in doc["images"]:
        found = next((d / im["file_name"] for d in dirs if (d / im["file_name"]).is_file()), None)
        if found is None:
            raise DatasetError(f"{ann}: image {im['file_name']} not found beside it (looked in "
                               f"{', '.join(str(d) for d in dirs[:3])})")
        records.append({"id": im["id"], "path": found, "width": im["width"], "height": im["height"]})
    return Dataset("coco", "detection", base, records,
                   {"annotations": str(ann.resolve()), "categories": len(doc["categories"]),
                    "category_ids": sorted(c["id"] for c in doc["categories"])})


def _mask_pairs(root: Path, images_dir: Path, mask_dir: Path) -> Dataset:
    masks = {m.stem: m for m in mask_dir.rglob("*.png")}
    items, orphans = [], []
    for img in image_files(images_dir):
        (items.append((img, masks[img.stem])) if img.stem in masks else orphans.append(img.name))
    if orphans:
        raise DatasetError(f"{images_dir}: {len(orphans)} image(s) without a mask in {mask_dir} "
                           f"(first: {orphans[0]}); masks are matched by file stem")
    if not items:
        raise DatasetError(f"{images_dir}: no images")
    return Dataset("mask_pairs", "semantic_segmentation", root, items, {"masks": mask_dir.name, "ignore_index": IGNORE})


# -- scoring ----------------------------------------------------------------------------------------
Predict = Callable[[np.ndarray], list]   # one preprocessed NCHW image -> the artifact's outputs


def score_classification(ds: Dataset, pre: Preprocess, predict: Predict, num_classes: int | None = None) -> dict:
    top1 = top5 = 0
    for path, label in ds.items:
        from edge_kit.images import preprocess

        logits = np.asarray(predict(preprocess(load_image(path, pre)[None], pre))[0]).reshape(-1)
        if num_classes is None:
            num_classes = logits.size
        if label >= logits.size:
            raise DatasetError(f"{path}: label {label} but the model has {logits.size} classes")
        order = np.argsort(-logits, kind="stable")
        top1 += int(order[0] == label)
        top5 += int(label in order[:5])
    n = len(ds.items)
    return {"top1": top1 / n, "top5": top5 / n, "images": n, "chance_top1": 1.0 / num_classes}


def score_detection(ds: Dataset, pre: Preprocess, predict_dets: Callable[[np.ndarray], np.ndarray]) -> dict:
    """predict_dets(one preprocessed image) -> [K, 6] rows (class, score, x1, y1, x2, y2) in network input
    pixels; boxes are scaled back to each image's own size (the detector's preprocessing is a plain resize)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from edge_kit.images import preprocess

    cat_ids = ds.info["category_ids"]
    h, w = pre.resize
    results = []
    for rec in ds.items:
        dets = np.asarray(predict_dets(preprocess(load_image(rec["path"], pre)[None], pre)), np.float64).reshape(-1, 6)
        sx, sy = rec["width"] / w, rec["height"] / h
        for c, s, x1, y1, x2, y2 in dets:
            if int(c) >= len(cat_ids):
                continue  # a class the dataset does not label
            results.append({"image_id": rec["id"], "category_id": cat_ids[int(c)], "score": float(s),
                            "bbox": [x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy]})
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        gt = COCO()
        gt.dataset = json.loads(Path(ds.info["annotations"]).read_text())
        gt.dataset.setdefault("info", {})  # pycocotools 2.0.10's loadRes needs it; many exports lack it
        gt.createIndex()
        if not results:
            return {"map": 0.0, "ap50": 0.0, "images": len(ds.items), "detections": 0}
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "bbox")
        ev.params.imgIds = [r["id"] for r in ds.items]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {"map": float(ev.stats[0]), "ap50": float(ev.stats[1]), "ap75": float(ev.stats[2]),
            "images": len(ds.items), "detections": len(results), "evaluator": "pycocotools COCOeval (bbox)"}


def score_segmentation(ds: Dataset, pre: Preprocess, predict_map: Callable[[np.ndarray], np.ndarray],
                       num_classes: int) -> dict:
    """Confusion matrix over the whole set (PaddleSeg's mIoU): the predicted label map is resized (nearest)
    to each mask's own size; pixels labelled 255 are ignored; IoU is averaged over classes that occur
    in the masks or the predictions."""
    from PIL import Image

    from edge_kit.images import preprocess

    conf = np.zeros((num_classes, num_classes), np.int64)
    for img, mask_path in ds.items:
        with Image.open(mask_path) as m:
            mask = np.asarray(m)
        if mask.ndim != 2:
            raise DatasetError(f"{mask_path}: a mask must be a single-channel PNG of class ids (got {mask.shape})")
        pred = np.asarray(predict_map(preprocess(load_image(img, pre)[None], pre))).reshape(pre.resize)
        pred = np.asarray(Image.fromarray(pred.astype(np.int32)).resize(mask.shape[::-1], Image.NEAREST))
        keep = mask != IGNORE
        gt, pr = mask[keep].astype(np.int64), pred[keep].astype(np.int64)
        if gt.size and gt.max() >= num_classes:
            raise DatasetError(f"{mask_path}: class id {int(gt.max())} but the model has {num_classes} classes")
        conf += np.bincount(gt * num_classes + pr, minlength=num_classes ** 2).reshape(num_classes, num_classes)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    present = union > 0
    ious = inter[present] / union[present]
    return {"miou": float(ious.mean()) if ious.size else 0.0, "pixel_accuracy": float(inter.sum() / max(conf.sum(), 1)),
            "classes_scored": int(present.sum()), "images": len(ds.items)}


# -- running an artifact over a dataset ---------------------------------------------------------------
ACCURACY_FILE = "accuracy.jsonl"
SCHEMA = "edgekit.accuracy/1"


def _predictors(art) -> tuple[Callable, str]:
    """A function (preprocessed NCHW image -> task output) for an artifact runnable here, and its task."""
    from edge_kit.infer import open_artifact
    from edge_kit.postprocess import label_map, yolo_postprocess
    from edge_kit.runtimes import per_image

    m = art.manifest
    task, graph = m.task, m.graph or "raw"
    hw = tuple(m.preprocess["resize_hw"])
    session = []  # one runtime for the whole set (a load per image made eval ~9x slower on 400 small images)

    def outputs(x):
        ins = [x]
        if len(m.inputs or []) > 1:  # a deploy-graph detector also takes im_shape and scale_factor
            names = [i["name"] for i in m.inputs]
            ins = [x if n == names[0] else np.array([hw], np.float32) if n == "im_shape" else
                   np.ones((1, 2), np.float32) for n in names]
        if not session:
            if m.format == "paddlelite":
                _preflight_nb(art.path, ins)
            session.append(open_artifact(m.format, m.target, art.path))
        return per_image(session[0], ins)[0]

    if task == "classification":
        return outputs, task
    if task == "detection":
        def dets(x):
            outs = outputs(x)
            if graph == "deploy":
                return np.asarray(outs[0]).reshape(-1, 6)
            heads = sorted(outs, key=lambda o: o.size)  # coarsest level first, as yolo_decode expects
            heads = [h.transpose(0, 3, 1, 2) if h.ndim == 4 and h.shape[-1] == 255 else h for h in heads]
            return yolo_postprocess(heads, img_hw=hw)
        return dets, task
    if task == "semantic_segmentation":
        def seg(x):
            out = np.asarray(outputs(x)[0])
            if graph == "deploy":
                return out.reshape(hw)
            if out.ndim == 4 and out.shape[1:3] == hw:  # NHWC logits from TFLite
                out = out.transpose(0, 3, 1, 2)
            return label_map(out)[0]
        return seg, task
    raise DatasetError(f"{art.path}: task {task!r} has no evaluation (classification, detection, segmentation)")


def _preflight_nb(path, ins: list[np.ndarray]) -> None:
    """Run the .nb once on the first image in a child (edge_kit.conversion.lite_parity) before the
    in-process session: Paddle-Lite aborts the process on a file it cannot run (a damaged .nb, a kernel this
    build lacks), which would end `edgekit eval` without a word; this way it is one error line."""
    import tempfile

    from edge_kit.conversion import lite_parity
    from edge_kit.errors import ConversionError, EdgekitError

    with tempfile.TemporaryDirectory(prefix="edgekit-eval-") as tmp:
        inputs = f"{tmp}/inputs.npz"
        np.savez(inputs, image=ins[0], **{f"input{i}": a for i, a in enumerate(ins[1:], 1)})
        try:
            lite_parity.run_nb(Path(path), inputs, model=str(path), stage="eval", out_dir=tmp)
        except ConversionError as err:
            raise EdgekitError(f"{path}: Paddle-Lite cannot run it: {err.detail}") from None


def _segmentation_classes(m) -> int:
    """From the logits' class axis (NHWC in TFLite, NCHW elsewhere); a deploy graph's label map has no
    class axis, so the zoo's class count is used for it."""
    if m.graph == "deploy":
        from edge_kit.zoo.registry import all_models

        spec = next((s for s in all_models() if s.name == m.model), None)
        if spec is None:
            raise DatasetError(f"{m.file}: a label-map artifact of a model edgekit does not know: "
                               "evaluate its logits artifact (TFLite/ONNX) instead")
        return spec.num_classes
    shape = m.outputs[0]["shape"]
    return int(shape[-1] if m.format == "tflite" else shape[1])


def resolve_artifact(target: str, precision: str = "fp32", calib: str | None = None, fmt: str = "tflite"):
    """An artifact path (with its manifest) or a zoo model name (converted, cached, to `fmt`)."""
    from edge_kit.errors import EdgekitError
    from edge_kit.manifest import Artifact, manifest_path

    p = Path(target)
    if p.is_file():
        if not manifest_path(p).is_file():
            raise EdgekitError(f"{target} has no {manifest_path(p).name} beside it; make it with `edgekit convert`")
        return Artifact.load(p)
    from edge_kit.convert import convert

    arts = convert(target, to=(fmt,), precisions=(precision,), calib=calib)
    match = [a for a in arts if a.format == fmt and a.precision == precision and a.manifest.file]
    if not match:
        raise EdgekitError(f"{target}: no {fmt} {precision} artifact was made")
    return match[0]


def evaluate(target: str, data: str, *, precision: str = "fp32", calib: str | None = None, fmt: str = "tflite",
             results_dir: str | None = "bench_results", limit: int | None = None) -> dict:
    """Score ARTIFACT|MODEL on DATA; append the record to <results_dir>/accuracy.jsonl; return it."""
    import time

    from edge_kit.bench.host_device import describe_host
    from edge_kit.errors import EdgekitError

    ds = find_dataset(data)
    if limit:
        ds.items = ds.items[:limit]
    art = resolve_artifact(target, precision, calib, fmt)
    m = art.manifest
    if m.format == "paddlelite" and m.target != "x86":
        raise EdgekitError(f"{art.path} holds {m.target.upper()} kernels, which cannot run on this machine; "
                           "evaluate its x86 twin (same program) or the TFLite/ONNX artifact")
    if m.format == "paddle":
        raise EdgekitError(f"{art.path} is the Paddle reference program; evaluate an artifact made from it "
                           "(the ONNX or TFLite file, or the x86 .nb)")
    predict, task = _predictors(art)
    if task != ds.task:
        raise EdgekitError(f"{art.path} is a {task} model but {data} is a {ds.task} dataset ({ds.kind})")
    pre = preprocess_from_manifest(m.preprocess)
    t0 = time.time()
    if task == "classification":
        metrics = score_classification(ds, pre, predict)
    elif task == "detection":
        metrics = score_detection(ds, pre, predict)
    else:
        n_classes = _segmentation_classes(m)
        metrics = score_segmentation(ds, pre, predict, n_classes)
    record = {"schema": SCHEMA, "model": m.model, "task": task, "format": m.format,
              "target": m.target, "precision": m.precision, "artifact": str(art.path),
              "sha256": m.sha256, "weights": (m.source or {}).get("weights"),
              "dataset": ds.describe(), "metrics": metrics, "seconds": round(time.time() - t0, 2),
              "host": {k: describe_host().get(k) for k in ("cpu_model", "os", "runtimes")},
              "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if results_dir:
        from edge_kit.bench.store import ResultStore

        store = ResultStore(results_dir, ACCURACY_FILE)
        store.check_writable()
        store.append(record)
        record["stored_in"] = str(store.path)
    return record
