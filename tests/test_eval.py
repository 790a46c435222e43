"""`edgekit eval`: datasets with known answers. A set labelled with the model's own predictions must
score exactly 1.0, a shuffled-label copy near chance; COCO and mask scoring go through pycocotools and
the confusion matrix with predictions whose answer is known."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from edge_kit.datasets import DatasetError
from edge_kit.evaluate import find_dataset, score_detection, score_segmentation
from edge_kit.images import natural_images
from edge_kit.zoo.registry import Preprocess

from conftest import run_cli


@pytest.fixture(scope="module")
def tiny_onnx(tiny_paddle_model):
    from edge_kit.convert import convert

    arts = convert(paddle_model=str(tiny_paddle_model), to=("onnx",), log=lambda m: None)
    return next(a for a in arts if a.format == "onnx").path


def _own_predictions(onnx_path, imgs):
    """The tiny model's top-1 with preprocessing written out here (72x72 images: crop [4:68], mean 0.5,
    std 0.25), independent of edge_kit.datasets."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = ((imgs[:, 4:68, 4:68].astype(np.float32) / 255 - 0.5) / 0.25).transpose(0, 3, 1, 2)
    name = sess.get_inputs()[0].name
    return np.array([int(sess.run(None, {name: x[i:i + 1]})[0].argmax()) for i in range(len(x))])


def _class_folders(root, imgs, labels):
    for i, (im, label) in enumerate(zip(imgs, labels)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(root / str(label) / f"img{i:03d}.png")
    return root


def test_class_folders_self_labelled_scores_one_shuffled_near_chance(tiny_onnx, tmp_path):
    imgs = natural_images(40, 72, 72, seed=21)
    pred = _own_predictions(tiny_onnx, imgs)
    own = _class_folders(tmp_path / "own", imgs, pred)
    shuffled = _class_folders(tmp_path / "shuffled", imgs, np.random.default_rng(1).permutation(10).take(pred))
    res = tmp_path / "results"
    out = run_cli("eval", str(tiny_onnx), "--data", str(own), "--results-dir", str(res))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "top-1 1.0000" in out.stdout and "class_folders, 40 images" in out.stdout
    out = run_cli("eval", str(tiny_onnx), "--data", str(shuffled), "--results-dir", str(res))
    assert out.returncode == 0, out.stderr[-2000:]
    records = [json.loads(line) for line in (res / "accuracy.jsonl").read_text().splitlines()]
    assert [r["metrics"]["top1"] for r in records][0] == 1.0
    assert records[1]["metrics"]["top1"] <= 0.3  # every label moved to another class: near chance (0.1)
    assert records[1]["dataset"]["format"] == "class_folders" and records[1]["sha256"]


def test_paddleclas_file_list(tiny_onnx, tmp_path):
    from edge_kit.evaluate import evaluate

    imgs = natural_images(12, 72, 72, seed=22)
    pred = _own_predictions(tiny_onnx, imgs)
    (tmp_path / "images").mkdir()
    lines = []
    for i, im in enumerate(imgs):
        Image.fromarray(im).save(tmp_path / "images" / f"{i}.jpg", quality=100)
        lines.append(f"images/{i}.jpg {pred[i]}")
    (tmp_path / "val_list.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "label_list.txt").write_text("\n".join(f"{i} class{i}" for i in range(10)) + "\n")
    rec = evaluate(str(tiny_onnx), str(tmp_path), results_dir=None)
    assert rec["dataset"]["format"] == "paddleclas_list"
    assert rec["metrics"]["top1"] >= 11 / 12  # JPEG (q100) may flip a near-tie; PNG above is exact
    (tmp_path / "val_list.txt").write_text("images/0.jpg\n")
    with pytest.raises(DatasetError, match="val_list.txt:1: expected"):
        find_dataset(str(tmp_path))


def _coco_set(tmp_path, sizes):
    """Images of different sizes with boxes; the json names categories 1, 3, 7 (model classes 0, 1, 2)."""
    (tmp_path / "images").mkdir()
    images, anns, rng = [], [], np.random.default_rng(0)
    for i, (h, w) in enumerate(sizes):
        Image.fromarray(natural_images(1, h, w, seed=i)[0]).save(tmp_path / "images" / f"{i}.png")
        images.append({"id": 100 + i, "file_name": f"{i}.png", "height": h, "width": w})
        for k in range(3):
            x, y = rng.uniform(0, w * 0.5), rng.uniform(0, h * 0.5)
            bw, bh = rng.uniform(w * 0.1, w * 0.4), rng.uniform(h * 0.1, h * 0.4)
            anns.append({"id": len(anns) + 1, "image_id": 100 + i, "category_id": [1, 3, 7][k],
                         "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
    doc = {"images": images, "annotations": anns, "categories": [{"id": c, "name": f"c{c}"} for c in (1, 3, 7)]}
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    return doc


def test_coco_detection_known_answers(tmp_path):
    doc = _coco_set(tmp_path, [(120, 160), (200, 100)])
    ds = find_dataset(str(tmp_path))
    assert ds.kind == "coco" and ds.info["category_ids"] == [1, 3, 7]
    pre = Preprocess(resize=(64, 64), resize_short=None, mean=(0, 0, 0), std=(1, 1, 1))
    by_image = {r["id"]: r for r in ds.items}
    order = iter([r["id"] for r in ds.items])

    def gt_in_network_pixels(shift=0.0):
        def predict(_x):
            img = by_image[next(order_holder[0])]
            rows = []
            for a in doc["annotations"]:
                if a["image_id"] == img["id"]:
                    x, y, w, h = a["bbox"]
                    sx, sy = 64 / img["width"], 64 / img["height"]
                    rows.append([[1, 3, 7].index(a["category_id"]), 0.9, (x + shift * w) * sx, y * sy,
                                 (x + w + shift * w) * sx, (y + h) * sy])
            return np.array(rows, np.float32)
        return predict

    order_holder = [order]
    perfect = score_detection(ds, pre, gt_in_network_pixels())
    assert perfect["map"] == pytest.approx(1.0, abs=1e-6) and perfect["ap50"] == pytest.approx(1.0, abs=1e-6)
    order_holder[0] = iter([r["id"] for r in ds.items])
    off = score_detection(ds, pre, gt_in_network_pixels(shift=2.0))  # every box moved off its object
    assert off["ap50"] == pytest.approx(0.0, abs=1e-6)


def test_mask_pairs_known_answers(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    masks = []
    for i in range(3):
        Image.fromarray(natural_images(1, 40, 60, seed=i)[0]).save(tmp_path / "images" / f"{i}.jpg")
        m = np.zeros((40, 60), np.uint8)
        m[:, 30:] = 1
        m[10:20, 5:15] = 2
        m[0, :] = 255  # ignored
        Image.fromarray(m).save(tmp_path / "masks" / f"{i}.png")
        masks.append(m)
    ds = find_dataset(str(tmp_path))
    assert ds.kind == "mask_pairs"
    pre = Preprocess(resize=(40, 60), resize_short=None, mean=(0, 0, 0), std=(1, 1, 1))
    it = iter(masks)
    exact = score_segmentation(ds, pre, lambda x: np.where((m := next(it)) == 255, 0, m), 4)
    assert exact["miou"] == pytest.approx(1.0) and exact["pixel_accuracy"] == pytest.approx(1.0)
    everything_zero = score_segmentation(ds, pre, lambda x: np.zeros((40, 60), np.int32), 4)
    # only class 0 predicted: its IoU = (class-0 pixels) / (all scored pixels); classes 1 and 2 score 0
    inter0 = (masks[0][1:] == 0).sum()
    union0 = (masks[0][1:] != 255).sum()
    assert everything_zero["miou"] == pytest.approx((inter0 / union0) / 3)
    (tmp_path / "images" / "extra.jpg").write_bytes((tmp_path / "images" / "0.jpg").read_bytes())
    with pytest.raises(DatasetError, match="without a mask"):
        find_dataset(str(tmp_path))


def test_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        find_dataset(str(tmp_path / "none"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no dataset found"):
        find_dataset(str(tmp_path / "empty"))


def test_report_accuracy_columns_and_int8_drop():
    from edge_kit.report.accuracy import add_accuracy_columns
    from edge_kit.report.tables import build_tables

    def rec(precision, top1):
        return {"schema": "edgekit.accuracy/1", "model": "MobileNetV2", "task": "classification", "format": "tflite",
                "precision": precision, "dataset": {"path": "/data/val"}, "metrics": {"top1": top1},
                "weights": "trained.pdparams"}

    tables = build_tables([])
    add_accuracy_columns(tables, [rec("fp32", 0.72), rec("int8", 0.695)])
    cls = next(t for t in tables if t.section == "classification")
    assert cls.columns[-2:] == ["Top1 % (measured, val, TFLite fp32)", "Top1 % (measured, val, TFLite int8)",
                                "int8 drop (points, val)"][-2:] and "Top1 % (measured, val, TFLite fp32)" in cls.columns
    row = next(r for r in cls.rows if r[0] == "MobileNetV2")
    assert row[-3:] == ["72.00", "69.50", "2.50"]
    other = next(r for r in cls.rows if r[0] == "MobileNetV3_small_ssld")
    assert other[-1] == "not measured"


def test_eval_of_a_nb_paddle_lite_aborts_on_is_one_error_line(tiny_paddle_model, tmp_path):
    """Paddle-Lite aborts the process on a .nb it cannot read; `eval` runs it once in a child first, so that is
    one error line (exit 2) and no accuracy record, not edgekit dying with SIGABRT. The manifest is made to
    match the damaged bytes, as for a file Opt wrote broken: the damage is the runtime's to find."""
    from edge_kit.convert import convert
    from edge_kit.manifest import manifest_path, sha256_file

    arts = convert(paddle_model=str(tiny_paddle_model), to=("paddlelite",), out_dir=str(tmp_path / "out"),
                   log=lambda m: None)
    nb = next(a for a in arts if a.format == "paddlelite" and a.target == "x86").path
    imgs = natural_images(4, 72, 72, seed=3)
    data = _class_folders(tmp_path / "set", imgs, [0, 1, 2, 3])
    whole = run_cli("eval", str(nb), "--data", str(data), "--results-dir", str(tmp_path / "whole"))
    assert whole.returncode == 0 and "class_folders, 4 images" in whole.stdout, whole.stderr[-1500:]
    nb.write_bytes(nb.read_bytes()[: nb.stat().st_size // 2])
    man = json.loads(manifest_path(nb).read_text())
    man.update(sha256=sha256_file(nb), bytes=nb.stat().st_size)
    manifest_path(nb).write_text(json.dumps(man))
    out = run_cli("eval", str(nb), "--data", str(data), "--results-dir", str(tmp_path / "res"))
    assert out.returncode == 2, (out.returncode, out.stderr[-1500:])
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("edgekit: error:")]
    assert len(lines) == 1 and "Paddle-Lite cannot run it: crashed: aborted: [F " in lines[0], out.stderr[-1500:]
    assert not (tmp_path / "res" / "accuracy.jsonl").exists()
