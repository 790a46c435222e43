"""Does an artifact compute what the Paddle reference computes? Comparison as data.

Outputs are compared per image (batch-1 artifacts; detections differ in count between images).
Tolerances fit the precision: fp32 must agree tightly; fp16 weights are judged by the task's own
metric (top-1/top-5 agreement for classifiers) plus a looser cosine.
"""
from __future__ import annotations

import numpy as np

# precision -> limits. max_abs is relative to the largest reference magnitude (logits scale freely).
LIMITS = {
    "fp32": {"cosine_min": 0.99999, "max_abs_rel": 1e-3, "top1_min": 1.0, "top5_min": 1.0},
    # fp16: the task metric is the gate; cosine only catches garbage (untrained nets have tiny logit gaps).
    "fp16": {"cosine_min": 0.99, "max_abs_rel": None, "top1_min": 0.75, "top5_min": 0.8},
    # int8: the task metric is the gate; the cosine only catches a broken quantization (garbage, ~0-0.5).
    "int8": {"cosine_min": 0.95, "max_abs_rel": None, "top1_min": 0.6, "top5_min": 0.7},
}


# Dense-task limits: detection after NMS (boxes matched one to one), segmentation label maps.
# fp32 must reproduce the reference's detections one to one; reduced precision is judged by the task
# metric against the reference's outputs (AP50 for boxes, mIoU and pixel agreement for label maps).
DENSE_LIMITS = {
    "fp32": {"iou_min": 0.9, "score_atol": 1e-3, "pixel_min": 0.999, "ap50_min": None, "miou_min": None},
    "fp16": {"ap50_min": 0.9, "pixel_min": 0.98, "miou_min": 0.9},
    "int8": {"ap50_min": 0.7, "pixel_min": 0.9, "miou_min": 0.7},
}


def _pair_outputs(ref: list[np.ndarray], got: list[np.ndarray]) -> list[np.ndarray]:
    """Converters may reorder outputs (TFLite's order is not ONNX's); pair them by shape when the
    order does not fit. Raises ValueError when no pairing exists."""
    def fits(r, g):
        return g.shape == r.shape or (g.ndim == 4 and g.transpose(0, 3, 1, 2).shape == r.shape)

    if all(fits(r, g) for r, g in zip(ref, got)):
        return list(got)
    left, paired = list(range(len(got))), []
    for r in ref:
        j = next((j for j in left if fits(r, got[j])), None)
        if j is None:
            raise ValueError(f"no artifact output fits the reference output of shape {list(r.shape)}")
        left.remove(j)
        paired.append(got[j])
    return paired


def _align(ref: np.ndarray, got: np.ndarray) -> np.ndarray:
    """TFLite returns 4-D tensors NHWC where Paddle returns NCHW; put them back before comparing."""
    if got.shape != ref.shape and got.ndim == 4 and got.transpose(0, 3, 1, 2).shape == ref.shape:
        got = got.transpose(0, 3, 1, 2)
    if got.shape != ref.shape and got.size == ref.size:
        got = got.reshape(ref.shape)
    if got.shape != ref.shape:
        raise ValueError(f"output shape {list(got.shape)} does not match the reference's {list(ref.shape)}")
    return got


def tensor_metrics(ref, got) -> dict:
    """Cosine, max and mean |difference| and the reference's max |value| of two tensors, or of two lists of
    tensors taken as one long vector each (every image's output).

    Accumulated in float64 over 64k-element chunks (np.nditer's buffering casts and gathers strided
    views chunk by chunk) instead of float64 copies of whole tensors: a segmenter's logits over its
    parity images are tens of millions of values, and the copies (plus concatenation and the ravel of
    TFLite's transposed NHWC outputs) were 3.5 of 4 s per comparison, four comparisons per model
    (profiled on DeepLabv3p-MobileNetV2, 8 images at 512x512)."""
    refs, gots = (list(x) if isinstance(x, (list, tuple)) else [x] for x in (ref, got))
    if len(refs) != len(gots):
        raise ValueError(f"{len(refs)} reference tensors against {len(gots)}")
    dot = rr = gg = sum_abs = 0.0
    max_abs = ref_max = np.float64(0.0)
    count = 0
    for r, g in zip(refs, gots):
        r, g = np.asarray(r), np.asarray(g)
        if r.shape != g.shape:  # same values in another shape: compare them in order, as one vector each
            if r.size != g.size:
                raise ValueError(f"tensors of {r.size} and {g.size} values cannot be compared")
            r, g = r.ravel(), g.ravel()
        count += r.size
        it = np.nditer([r, g], flags=["external_loop", "buffered", "zerosize_ok"], op_dtypes=[np.float64] * 2,
                       casting="unsafe", buffersize=1 << 16)
        for a, b in it:
            dot += float(a @ b)
            rr += float(a @ a)
            gg += float(b @ b)
            diff = np.abs(a - b)
            sum_abs += float(diff.sum())
            # np.maximum, not max(): a NaN anywhere must reach the result and fail the check
            max_abs = np.maximum(max_abs, diff.max())
            ref_max = np.maximum(ref_max, np.abs(a).max())
    denom = np.sqrt(rr) * np.sqrt(gg)
    # all-zero tensors: equal ones agree (cosine 1), else they do not
    cosine = float(dot / denom) if denom else float(count == 0 or max_abs == 0.0)
    return {"max_abs": float(max_abs), "mean_abs": sum_abs / count if count else 0.0,
            "cosine": cosine, "ref_max_abs": float(ref_max)}


def topk_agreement(ref_logits: np.ndarray, got_logits: np.ndarray, k: int) -> float:
    """Fraction of the reference's top-k classes the artifact also ranks in its top-k (k=1: same top-1).
    A model with fewer than k classes (a 2-way text-direction classifier) is scored over all of them."""
    k = min(k, ref_logits.shape[-1])
    ref_top = np.argsort(-ref_logits, axis=-1)[..., :k]
    got_top = np.argsort(-got_logits, axis=-1)[..., :k]
    hits = [len(set(a) & set(b)) / k for a, b in zip(ref_top.reshape(-1, k), got_top.reshape(-1, k))]
    return float(np.mean(hits))


def _check(name: str, value: float, limit: float, higher_is_better: bool) -> dict:
    passed = value >= limit if higher_is_better else value <= limit
    return {"name": name, "value": value, "limit": limit, "passed": bool(passed),
            "rule": f"{name} {'>=' if higher_is_better else '<='} {limit:g}"}


def compare(task: str, precision: str, ref: list[list[np.ndarray]], got: list[list[np.ndarray]],
            graph: str = "raw", input_hw: tuple[int, int] | None = None) -> dict:
    """Return {"status": "passed"|"failed", "reason", "checks": [...], "metrics": {...}}.

    graph "deploy": outputs already post-processed in the graph (detections [N,6], label maps);
    graph "raw": network tensors (logits, YOLO heads), compared as tensors and through the task's
    host-side post-processing."""
    if len(ref) != len(got) or any(len(a) != len(b) for a, b in zip(ref, got)):
        return _result([], {}, "artifact returned a different number of outputs than the reference")
    try:
        got = [_pair_outputs(rs, gs) for rs, gs in zip(ref, got)]
        got = [[_align(r, g) for r, g in zip(rs, gs)] for rs, gs in zip(ref, got)]
    except ValueError as exc:
        if not (graph == "deploy" and task == "detection"):  # detection counts legitimately differ
            return _result([], {}, str(exc))
    if graph == "deploy" and task == "detection":
        return _detections(precision, [rs[0] for rs in ref], [gs[0] for gs in got], {})
    if graph == "deploy" and task == "semantic_segmentation":
        return _label_maps(precision, [rs[0] for rs in ref], [gs[0] for gs in got], {}, [])
    checks, metrics = _tensor_checks(precision, ref, got)
    if task == "classification":
        limits = LIMITS.get(precision, LIMITS["fp32"])
        ref_logits = np.concatenate([rs[0].reshape(1, -1) for rs in ref])
        got_logits = np.concatenate([gs[0].reshape(1, -1) for gs in got])
        metrics["top1_agreement"] = topk_agreement(ref_logits, got_logits, 1)
        metrics["top5_agreement"] = topk_agreement(ref_logits, got_logits, 5)
        checks.append(_check("top1_agreement", metrics["top1_agreement"], limits["top1_min"], True))
        checks.append(_check("top5_agreement", metrics["top5_agreement"], limits["top5_min"], True))
    elif task == "detection":
        from edge_kit.postprocess import yolo_postprocess

        dets_ref = [yolo_postprocess(rs, img_hw=input_hw) for rs in ref]
        dets_got = [yolo_postprocess(gs, img_hw=input_hw) for gs in got]
        return _detections(precision, dets_ref, dets_got, metrics, checks)
    elif task == "semantic_segmentation":
        from edge_kit.postprocess import label_map

        return _label_maps(precision, [label_map(rs[0]) for rs in ref], [label_map(gs[0]) for gs in got],
                           metrics, checks)
    return _result(checks, metrics)


def _tensor_checks(precision: str, ref, got) -> tuple[list, dict]:
    """Every output of every image, one long vector per output index."""
    limits = LIMITS.get(precision, LIMITS["fp32"])
    per_output = []
    for j in range(len(ref[0])):
        per_output.append(tensor_metrics([rs[j] for rs in ref], [gs[j] for gs in got]))
    checks = []
    for j, m in enumerate(per_output):
        checks.append(_check(f"out{j}.cosine", m["cosine"], limits["cosine_min"], True))
        if limits["max_abs_rel"] is not None:
            checks.append(_check(f"out{j}.max_abs", m["max_abs"], limits["max_abs_rel"] * max(1.0, m["ref_max_abs"]),
                                 False))
    return checks, {"images": len(ref), "outputs": per_output}


def _detections(precision, dets_ref, dets_got, metrics, checks=None) -> dict:
    from edge_kit.postprocess import match_detections
    from edge_kit.postprocess.agreement import ap50

    limits = DENSE_LIMITS.get(precision, DENSE_LIMITS["fp32"])
    checks = list(checks or [])
    metrics = {**metrics, "boxes_reference": int(sum(len(np.asarray(r).reshape(-1, 6)) for r in dets_ref)),
               "ap50_vs_reference": ap50(dets_ref, dets_got)}
    if limits.get("ap50_min") is None:  # fp32: the same boxes, one to one
        matches = [match_detections(r, g, iou_min=limits["iou_min"], score_atol=limits["score_atol"])
                   for r, g in zip(dets_ref, dets_got)]
        metrics["detections"] = matches
        ok_images = sum(m["ok"] for m in matches) / max(1, len(matches))
        checks.append(_check("detections_matched_images", ok_images, 1.0, True))
    else:
        checks.append(_check("ap50_vs_reference", metrics["ap50_vs_reference"], limits["ap50_min"], True))
    if metrics["boxes_reference"] == 0:
        checks.append(_check("reference_boxes", 0, 1, True))  # nothing to compare is not a pass
    return _result(checks, metrics)


def _label_maps(precision, maps_ref, maps_got, metrics, checks) -> dict:
    from edge_kit.postprocess import pixel_agreement
    from edge_kit.postprocess.agreement import miou

    limits = DENSE_LIMITS.get(precision, DENSE_LIMITS["fp32"])
    agree = float(np.mean([pixel_agreement(r, g) for r, g in zip(maps_ref, maps_got)]))
    metrics = {**metrics, "pixel_agreement": agree,
               "miou_vs_reference": float(np.mean([miou(r, g) for r, g in zip(maps_ref, maps_got)])),
               "classes_in_reference": int(len(np.unique(np.concatenate([m.ravel() for m in maps_ref]))))}
    checks = list(checks) + [_check("pixel_agreement", agree, limits["pixel_min"], True)]
    if limits.get("miou_min") is not None:
        checks.append(_check("miou_vs_reference", metrics["miou_vs_reference"], limits["miou_min"], True))
    return _result(checks, metrics)


def _result(checks: list, metrics: dict, error: str = "") -> dict:
    failed = [c for c in checks if not c["passed"]]
    reason = error or "; ".join(f"{c['name']} = {c['value']:.6g} (needs {c['rule']})" for c in failed)
    return {"status": "failed" if (failed or error) else "passed", "reason": reason, "checks": checks,
            "metrics": metrics}
