"""`edgekit bundle --check`: replay the app's own pre- and post-processing (edge_kit.apps.*, written from
its source) on the bundle's x86 twin (or the TFLite file itself) for the bundle's test image, and compare
what the app would show with edgekit's reference: the standard graph run by Paddle Inference on the
correctly preprocessed image (same resize as the app). A contract break (crash, wrong dtype, wrong
labels, wrong scores, a mask that disagrees) fails the check.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_kit.apps.contract import ContractBreak

CHECK_DIR = "edgekit_check"
TOPK_TIE = 1e-3       # reference probabilities closer than this may swap ranks (float noise)
SCORE_TOL = 0.01      # shown score vs reference probability (Java prints 3 decimals)
MASK_AGREEMENT = 0.99  # fp32 twin vs Paddle Inference; bilinear upsampling ties flip a few pixels


def reference_view(task: str, outputs: list[np.ndarray], names: list[str]) -> tuple[dict, np.ndarray | None]:
    """What a correct app shows, from the standard graph's outputs (logits / int32 label map)."""
    if task == "classification":
        logits = outputs[0].ravel().astype(np.float64)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        order = np.argsort(-p, kind="stable")[:10]
        return {"kind": "topk", "items": [[names[i], float(p[i])] for i in order]}, None
    if task == "detection":
        rows = outputs[0].reshape(-1, 6)
        return {"kind": "boxes", "rows": [[names[int(r[0])] if 0 <= int(r[0]) < len(names) else "Unknow",
                                            float(r[1]), *map(float, r[2:])] for r in rows]}, None
    if task == "semantic_segmentation":
        return {"kind": "mask"}, outputs[0].reshape(outputs[0].shape[-2:]).astype(np.int64)
    raise ValueError(task)


def compare(shown, ref: dict, ref_mask) -> tuple[bool, str]:
    if ref["kind"] == "topk":
        probs = {n: p for n, p in ref["items"]}
        want = ref["items"][:len(shown.items)]
        for rank, ((name, score), (rname, rprob)) in enumerate(zip(shown.items, want)):
            if name != rname and abs(probs.get(name, -1.0) - rprob) > TOPK_TIE:
                return False, f"rank {rank + 1}: the app shows {name!r}, the reference is {rname!r} ({rprob:.4f})"
            if abs(score - probs.get(name, rprob)) > SCORE_TOL:
                return False, (f"rank {rank + 1}: the app shows score {score:.4f} for {name!r}, the reference "
                               f"probability is {probs.get(name, rprob):.4f}")
        if not shown.items:
            return False, "the app shows no result"
        return True, f"top-{len(shown.items)} labels and scores match the reference"
    if ref["kind"] == "boxes":
        return _compare_boxes(shown, ref)
    mask = shown.mask
    if mask is None or mask.shape != ref_mask.shape:
        return False, f"mask shape {None if mask is None else mask.shape} vs reference {ref_mask.shape}"
    agree = float((mask == ref_mask).mean())
    ok = agree >= MASK_AGREEMENT
    return ok, f"{agree:.4f} of pixels agree with the reference label map (need {MASK_AGREEMENT})"


def _compare_boxes(shown, ref: dict) -> tuple[bool, str]:
    """Every box the app draws (score >= its threshold) matches a reference row: class, score, IoU >= 0.9."""
    thr = ref.get("threshold", 0.0)
    want = [r for r in ref["rows"] if r[1] >= thr]
    if len(shown.items) != len(want):
        return False, f"the app draws {len(shown.items)} boxes, the reference has {len(want)} with score >= {thr}"
    if not want:
        return False, f"no reference box scores >= {thr} on the test image: nothing to compare (no proof)"
    w, h = ref["input_wh"]
    for name, score, x, y, bw, bh in shown.items:
        box = np.array([x * w, y * h, x * w + bw * w - 1, y * h + bh * h - 1])
        best = 0.0
        for r in want:
            if r[0] == name and abs(r[1] - score) <= SCORE_TOL:
                ix = max(0.0, min(box[2], r[4]) - max(box[0], r[2]) + 1)
                iy = max(0.0, min(box[3], r[5]) - max(box[1], r[3]) + 1)
                union = (box[2] - box[0] + 1) * (box[3] - box[1] + 1) + (r[4] - r[2] + 1) * (r[5] - r[3] + 1) - ix * iy
                best = max(best, ix * iy / union)
        if best < 0.9:
            return False, f"the app's box {name} {score:.3f} matches no reference box (best IoU {best:.2f})"
    return True, f"{len(want)} boxes (score >= {thr}) match the reference in class, score and IoU >= 0.9"


def _input_count(model: Path) -> int:
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    config = MobileConfig()
    config.set_model_from_file(str(model))
    return len(create_paddle_predictor(config).get_input_names())


def check_bundle(dest: Path) -> dict:
    """Replay the bundle's app on its test image; the result is also written to edgekit_check/result.json."""
    from PIL import Image

    from edge_kit.apps import APPS
    from edge_kit.infer import run_paddlelite, run_tflite

    dest = Path(dest)
    info = json.loads((dest / "edgekit_bundle.json").read_text())
    contract = APPS[info["app"]]
    check = dest / CHECK_DIR
    ref = json.loads((check / "reference.json").read_text())
    ref_mask = np.load(check / "reference_mask.npy") if (check / "reference_mask.npy").exists() else None
    image = np.asarray(Image.open(dest / info["test_image"]).convert("RGB"))
    if contract.runtime == "tflite":
        model, runner = dest / info["model_file"], run_tflite
    else:
        model, runner = check / "model.x86.nb", run_paddlelite

    def run(inputs):
        if contract.runtime == "paddlelite":
            have = _input_count(model)
            if have < len(inputs):   # Paddle-Lite CHECK-fails (aborts the process): say so instead
                raise ContractBreak(f"the app fills GetInput({len(inputs) - 1}); the model has {have} input(s): "
                                    "Paddle-Lite aborts (Check failed: input_names_.size() > offset)")
        return runner(model, inputs)[0]

    result = {"app": contract.name, "title": contract.title, "image": info["test_image"],
              "replayed_on": f"{model.name} ({'TFLite on this machine' if contract.runtime == 'tflite' else 'the x86 twin of the ARM .nb'})",
              "reference": ref.get("source", "")}
    try:
        shown = contract.replay(dest, info, image, run)
        ok, why = compare(shown, contract.reference_as_shown(ref, image), ref_mask)
        if shown.kind == "topk":
            result["app_shows"] = [[n, round(s, 4)] for n, s in shown.items]
            result["reference_top"] = [[n, round(p, 4)] for n, p in ref["items"][:len(shown.items)]]
    except ContractBreak as brk:
        ok, why = False, f"contract break: {brk}"
    except Exception as exc:   # the runtime refused the inputs the app feeds
        ok, why = False, f"the app's inputs fail in Paddle-Lite/TFLite: {type(exc).__name__}: {str(exc)[:300]}"
    result.update(status="passed" if ok else "failed", reason=why)
    (check / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
