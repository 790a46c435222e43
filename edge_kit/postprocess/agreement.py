"""Task metrics of an artifact against the reference's own outputs (the reference plays ground truth).

Reduced precision legitimately reorders near-tied scores and flips near-tied pixels, so fp16/int8
artifacts are judged the way the task is judged: AP50 of the detections, mIoU of the label map.
"""
from __future__ import annotations

import numpy as np


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    iw = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = iw * ih
    area = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area - inter, 1e-9)


def ap50(ref_dets: list[np.ndarray], got_dets: list[np.ndarray]) -> float:
    """COCO-style AP at IoU 0.5 (101-point), mean over the classes the reference detects; rows are
    [class, score, x1, y1, x2, y2]."""
    ref_dets = [np.asarray(r, np.float64).reshape(-1, 6) for r in ref_dets]
    got_dets = [np.asarray(g, np.float64).reshape(-1, 6) for g in got_dets]
    classes = sorted({int(c) for r in ref_dets for c in r[:, 0]})
    aps = []
    for c in classes:
        n_gt = sum(int((r[:, 0] == c).sum()) for r in ref_dets)
        preds = [(g[i, 1], img, g[i, 2:]) for img, g in enumerate(got_dets) for i in np.flatnonzero(g[:, 0] == c)]
        preds.sort(key=lambda p: -p[0])
        used = {img: np.zeros(int((r[:, 0] == c).sum()), bool) for img, r in enumerate(ref_dets)}
        tp = []
        for _, img, box in preds:
            gts = ref_dets[img][ref_dets[img][:, 0] == c][:, 2:]
            hit = False
            if len(gts):
                ious = _iou(box, gts)
                ious[used[img]] = -1
                j = int(np.argmax(ious))
                if ious[j] >= 0.5:
                    used[img][j] = hit = True
            tp.append(hit)
        tp = np.asarray(tp, float)
        recall = np.cumsum(tp) / max(n_gt, 1)
        precision = np.cumsum(tp) / np.arange(1, len(tp) + 1) if len(tp) else np.zeros(0)
        envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(tp) else precision
        points = [envelope[np.searchsorted(recall, t)] if np.searchsorted(recall, t) < len(recall) else 0.0
                  for t in np.linspace(0, 1, 101)]
        aps.append(float(np.mean(points)))
    return float(np.mean(aps)) if aps else 1.0


def miou(ref_map: np.ndarray, got_map: np.ndarray) -> float:
    """Mean IoU over the classes present in either map."""
    ref_map, got_map = np.asarray(ref_map).ravel(), np.asarray(got_map).ravel()
    ious = []
    for c in np.union1d(np.unique(ref_map), np.unique(got_map)):
        r, g = ref_map == c, got_map == c
        ious.append((r & g).sum() / max((r | g).sum(), 1))
    return float(np.mean(ious))
