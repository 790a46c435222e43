"""YOLOv3 box decoding and multi-class NMS in numpy, reproducing Paddle's yolo_box and
multiclass_nms3 kernels (CPU), so artifacts that carry the raw heads (ONNX, TFLite) give the same
[K, 6] detections (class, score, x1, y1, x2, y2) as the Paddle-Lite graph with NMS inside.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from edge_kit.errors import ParityError


@dataclass(frozen=True)
class YoloConfig:
    anchors: tuple = ((10, 13), (16, 30), (33, 23), (30, 61), (62, 45), (59, 119), (116, 90), (156, 198),
                      (373, 326))
    masks: tuple = ((6, 7, 8), (3, 4, 5), (0, 1, 2))   # coarsest level first, like the heads
    downsample: tuple = (32, 16, 8)
    conf_thresh: float = 0.005       # yolo_box: objectness below this gives score 0 (PaddleDetection)
    score_threshold: float = 0.01    # NMS keeps scores strictly above this
    nms_threshold: float = 0.45
    nms_top_k: int = 1000
    keep_top_k: int = 100

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


COCO_YOLO = YoloConfig()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def yolo_decode(heads, cfg: YoloConfig = COCO_YOLO, img_hw=None, num_classes=80):
    """Raw heads [1, A*(5+C), H, W] per level -> boxes [M, 4] (x1, y1, x2, y2 pixels, clipped) and
    scores [M, C] (objectness * class prob, 0 where objectness < conf_thresh), in yolo_box's order."""
    if len(heads) != len(cfg.masks):
        raise ParityError(f"expected {len(cfg.masks)} YOLO head tensors, got {len(heads)}")
    all_boxes, all_scores = [], []
    for level, head in enumerate(heads):
        head = np.asarray(head, np.float32)
        n_anchor = len(cfg.masks[level])
        if head.ndim != 4 or head.shape[0] != 1 or head.shape[1] != n_anchor * (5 + num_classes):
            raise ParityError(f"YOLO head {level} has shape {head.shape}, expected [1, "
                              f"{n_anchor * (5 + num_classes)}, H, W] (NCHW)")
        _, _, gh, gw = head.shape
        img_h, img_w = img_hw if img_hw is not None else (gh * cfg.downsample[level], gw * cfg.downsample[level])
        in_h, in_w = gh * cfg.downsample[level], gw * cfg.downsample[level]
        p = head[0].reshape(n_anchor, 5 + num_classes, gh, gw)
        anchors = np.array([cfg.anchors[m] for m in cfg.masks[level]], np.float32)
        gy, gx = np.mgrid[0:gh, 0:gw].astype(np.float32)
        cx = (gx + _sigmoid(p[:, 0])) * img_w / gw
        cy = (gy + _sigmoid(p[:, 1])) * img_h / gh
        w = np.exp(p[:, 2]) * anchors[:, 0, None, None] * img_w / in_w
        h = np.exp(p[:, 3]) * anchors[:, 1, None, None] * img_h / in_h
        conf = _sigmoid(p[:, 4])
        boxes = np.stack([np.maximum(cx - w / 2, 0), np.maximum(cy - h / 2, 0),
                          np.minimum(cx + w / 2, img_w - 1), np.minimum(cy + h / 2, img_h - 1)], -1)
        scores = conf[:, None] * _sigmoid(p[:, 5:])                      # [A, C, H, W]
        keep = (conf >= cfg.conf_thresh)
        boxes = np.where(keep[..., None], boxes, 0)
        scores = np.where(keep[:, None], scores, 0).transpose(0, 2, 3, 1)  # [A, H, W, C]
        all_boxes.append(boxes.reshape(-1, 4))
        all_scores.append(scores.reshape(-1, num_classes))
    return np.concatenate(all_boxes).astype(np.float32), np.concatenate(all_scores).astype(np.float32)


def _iou_pixels(a, b):
    """Pairwise Jaccard overlap [len(a), len(b)] of un-normalised (pixel) boxes: Paddle adds 1 to widths
    and heights. Element by element the same float32 arithmetic as a loop over `a` (parity compares
    detections exactly), but one broadcast instead of a Python call per box. The four coordinates are
    taken as contiguous columns first: broadcasting strided views of the [N, 4] arrays was slower (YOLO
    parity's post-processing, 4 detection sets of YOLOv3-MobileNetV1: 10.4 -> 8.7 s CPU, under load)."""
    ax1, ay1, ax2, ay2 = (np.ascontiguousarray(a[:, i])[:, None] for i in range(4))
    bx1, by1, bx2, by2 = (np.ascontiguousarray(b[:, i])[None, :] for i in range(4))
    iw = np.minimum(ax2, bx2) - np.maximum(ax1, bx1) + 1
    ih = np.minimum(ay2, by2) - np.maximum(ay1, by1) + 1
    disjoint = (bx1 > ax2) | (bx2 < ax1) | (by1 > ay2) | (by2 < ay1)
    inter = np.where(disjoint, 0, iw * ih)
    area = (ax2 - ax1 + 1) * (ay2 - ay1 + 1)
    areas = (bx2 - bx1 + 1) * (by2 - by1 + 1)
    return inter / (area + areas - inter)


def yolo_nms(boxes, scores, cfg: YoloConfig = COCO_YOLO):
    """Per-class greedy NMS then a global keep_top_k, rows grouped by class ascending and by
    descending score within a class (multiclass_nms3's output order). Returns float32 [K, 6]."""
    kept = []   # (score, class, box index)
    best = []   # min-heap of the keep_top_k highest kept scores so far
    for c in range(scores.shape[1]):
        s = scores[:, c]
        cand = np.nonzero(s > cfg.score_threshold)[0]
        cand = cand[np.argsort(-s[cand], kind="stable")][:cfg.nms_top_k]
        # Only the keep_top_k best kept boxes are returned, ties going to the earlier (class, rank) one.
        # Once that many are kept, a candidate scoring no more than the lowest of them can never be
        # returned, and neither can the rest of its class (lower scores): drop them before the overlap
        # matrix. The same rows come out; the matrix shrinks from nms_top_k^2 for most classes (profiled:
        # NMS was 70% of a YOLO parity check).
        if len(best) == cfg.keep_top_k:
            cand = cand[s[cand] > best[0]]
        # Greedy NMS: a candidate survives if its overlap with every box kept so far is <= threshold.
        # The pairwise matrix (<= nms_top_k^2, one broadcast) makes the loop touch only kept boxes.
        cb = boxes[cand]
        iou = _iou_pixels(cb, cb)
        suppressed = np.zeros(len(cand), bool)
        selected = []
        for k in range(len(cand)):
            if not suppressed[k]:
                selected.append(cand[k])
                suppressed |= iou[k] > cfg.nms_threshold
        kept += [(s[i], c, i) for i in selected]
        for i in selected:
            (heapq.heappush if len(best) < cfg.keep_top_k else heapq.heappushpop)(best, s[i])
    if len(kept) > cfg.keep_top_k:
        kept = sorted(kept, key=lambda t: -t[0])[:cfg.keep_top_k]
    kept.sort(key=lambda t: (t[1], -t[0]))
    rows = [[c, s, *boxes[i]] for s, c, i in kept]
    return np.asarray(rows, np.float32).reshape(-1, 6)


def yolo_postprocess(heads, cfg: YoloConfig = COCO_YOLO, img_hw=None, num_classes=80):
    """Raw heads of one image -> [K, 6] detections, as the in-graph yolo_box + multiclass_nms3."""
    return yolo_nms(*yolo_decode(heads, cfg, img_hw, num_classes), cfg)


def _iou_continuous(a, b):
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def match_detections(ref, test, iou_min=0.9, score_atol=1e-4) -> dict:
    """One-to-one matching of two [K, 6] detection sets: greedily by reference score, a match needs
    the same class and IoU >= iou_min. ok means equal counts, everything matched, scores within tol."""
    ref = np.asarray(ref, np.float32).reshape(-1, 6)
    test = np.asarray(test, np.float32).reshape(-1, 6)
    iou = _iou_continuous(ref[:, 2:], test[:, 2:]) if len(ref) and len(test) else np.zeros((len(ref), len(test)))
    iou = np.where(ref[:, None, 0] == test[None, :, 0], iou, -1)
    used, pairs = set(), []
    for r in np.argsort(-ref[:, 1], kind="stable"):
        options = [t for t in np.argsort(-iou[r]) if t not in used and iou[r, t] >= iou_min]
        if options:
            used.add(options[0])
            pairs.append((r, options[0]))
    diffs = [abs(float(ref[r, 1] - test[t, 1])) for r, t in pairs]
    min_iou = min((float(iou[r, t]) for r, t in pairs), default=1.0)
    max_diff = max(diffs, default=0.0)
    ok = len(ref) == len(test) == len(pairs) and max_diff <= score_atol
    return {"ref_count": len(ref), "test_count": len(test), "matched": len(pairs),
            "min_iou": min_iou, "max_score_diff": max_diff, "ok": ok}
