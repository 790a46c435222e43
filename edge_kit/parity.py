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
    "int8": {"cosine_min": 0.98, "max_abs_rel": None, "top1_min": 0.6, "top5_min": 0.7},
}


def _align(ref: np.ndarray, got: np.ndarray) -> np.ndarray:
    """TFLite returns 4-D tensors NHWC where Paddle returns NCHW; put them back before comparing."""
    if got.shape != ref.shape and got.ndim == 4 and got.transpose(0, 3, 1, 2).shape == ref.shape:
        got = got.transpose(0, 3, 1, 2)
    if got.shape != ref.shape and got.size == ref.size:
        got = got.reshape(ref.shape)
    if got.shape != ref.shape:
        raise ValueError(f"output shape {list(got.shape)} does not match the reference's {list(ref.shape)}")
    return got


def tensor_metrics(ref: np.ndarray, got: np.ndarray) -> dict:
    r, g = ref.astype(np.float64).ravel(), got.astype(np.float64).ravel()
    denom = np.linalg.norm(r) * np.linalg.norm(g)
    cosine = float(r @ g / denom) if denom else float(np.array_equal(r, g))
    diff = np.abs(r - g)
    return {"max_abs": float(diff.max(initial=0.0)), "mean_abs": float(diff.mean()) if diff.size else 0.0,
            "cosine": cosine, "ref_max_abs": float(np.abs(r).max(initial=0.0))}


def topk_agreement(ref_logits: np.ndarray, got_logits: np.ndarray, k: int) -> float:
    """Fraction of the reference's top-k classes the artifact also ranks in its top-k (k=1: same top-1)."""
    ref_top = np.argsort(-ref_logits, axis=-1)[..., :k]
    got_top = np.argsort(-got_logits, axis=-1)[..., :k]
    hits = [len(set(a) & set(b)) / k for a, b in zip(ref_top.reshape(-1, k), got_top.reshape(-1, k))]
    return float(np.mean(hits))


def _check(name: str, value: float, limit: float, higher_is_better: bool) -> dict:
    passed = value >= limit if higher_is_better else value <= limit
    return {"name": name, "value": value, "limit": limit, "passed": bool(passed),
            "rule": f"{name} {'>=' if higher_is_better else '<='} {limit:g}"}


def compare(task: str, precision: str, ref: list[list[np.ndarray]], got: list[list[np.ndarray]]) -> dict:
    """Return {"status": "passed"|"failed", "reason", "checks": [...], "metrics": {...}}."""
    limits = LIMITS.get(precision, LIMITS["fp32"])
    if len(ref) != len(got) or any(len(a) != len(b) for a, b in zip(ref, got)):
        return {"status": "failed", "reason": "artifact returned a different number of outputs than the reference",
                "checks": [], "metrics": {}}
    try:
        pairs = [(r, _align(r, g)) for rs, gs in zip(ref, got) for r, g in zip(rs, gs)]
    except ValueError as exc:
        return {"status": "failed", "reason": str(exc), "checks": [], "metrics": {}}
    # Tensor metrics over every output of every image, as one long vector per output index.
    n_out = len(ref[0])
    per_output = []
    for j in range(n_out):
        r = np.concatenate([rs[j].ravel() for rs in ref])
        g = np.concatenate([_align(rs[j], gs[j]).ravel() for rs, gs in zip(ref, got)])
        per_output.append(tensor_metrics(r, g))
    metrics = {"images": len(ref), "outputs": per_output}
    checks = []
    for j, m in enumerate(per_output):
        checks.append(_check(f"out{j}.cosine", m["cosine"], limits["cosine_min"], True))
        if limits["max_abs_rel"] is not None:
            checks.append(_check(f"out{j}.max_abs", m["max_abs"], limits["max_abs_rel"] * max(1.0, m["ref_max_abs"]),
                                 False))
    if task == "classification":
        ref_logits = np.concatenate([rs[0].reshape(1, -1) for rs in ref])
        got_logits = np.concatenate([_align(rs[0], gs[0]).reshape(1, -1) for rs, gs in zip(ref, got)])
        metrics["top1_agreement"] = topk_agreement(ref_logits, got_logits, 1)
        metrics["top5_agreement"] = topk_agreement(ref_logits, got_logits, 5)
        checks.append(_check("top1_agreement", metrics["top1_agreement"], limits["top1_min"], True))
        checks.append(_check("top5_agreement", metrics["top5_agreement"], limits["top5_min"], True))
    failed = [c for c in checks if not c["passed"]]
    reason = "; ".join(f"{c['name']} = {c['value']:.6g} (needs {c['rule']})" for c in failed)
    return {"status": "failed" if failed else "passed", "reason": reason, "checks": checks, "metrics": metrics}
