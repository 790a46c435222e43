"""The zoo's conversion record: every implemented model converted to every format and precision, with the
parity verdict each artifact's manifest holds. Writes bench_results/parity.md and parity.json.

Conversions come from the cache when they are there (seconds), otherwise they run (about 25 minutes
for the whole zoo on 2 cores). Exits 1 if any artifact failed its checks.

    .venv/bin/python scripts/parity_table.py [--models A,B] [--no-write]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = [("paddlelite", "x86", "fp32"), ("paddlelite", "arm", "fp32"), ("paddlelite", "arm", "fp16"),
           ("paddlelite", "opencl", "fp32"), ("onnx", "cpu", "fp32"), ("tflite", "cpu", "fp32"),
           ("tflite", "cpu", "fp16")]


def summary(manifest: dict) -> str:
    """One cell: the verdict and the figure its gate looks at."""
    parity = manifest.get("parity", {})
    status = parity.get("status", manifest.get("status"))
    m = parity.get("metrics", {})
    if status not in ("passed", "failed"):   # arm/opencl: trusted as far as the x86 twin
        twin = parity.get("x86_twin", {}).get("status")
        return f"twin {twin}" if twin else str(status)
    parts = []
    if "top1_agreement" in m:
        parts.append(f"top1 {m['top1_agreement']:.0%}")
    if "ap50_vs_reference" in m:
        parts.append(f"AP50 {m['ap50_vs_reference']:.3f}")
    if "detections" in m:   # fp32: boxes matched one to one
        matched = sum(d.get("matched", 0) for d in m["detections"])
        parts.append(f"boxes {matched}/{sum(d.get('ref_count', 0) for d in m['detections'])} matched")
    if "pixel_agreement" in m:
        parts.append(f"pixels {m['pixel_agreement']:.3%}")
    if "miou_vs_reference" in m:
        parts.append(f"mIoU {m['miou_vs_reference']:.3f}")
    outs = m.get("outputs") or []
    if outs and "cosine" in outs[0]:
        parts.append(f"cos {min(o['cosine'] for o in outs):.6f}")
    base = parity.get("fp16_weight_baseline")
    if base:
        parts.append(f"(fp16-weight baseline {base['onnx_with_fp16_rounded_weights']:.3f})")
    return f"{status}: " + ", ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from importlib.metadata import version

    from edge_kit.convert import convert
    from edge_kit.zoo.registry import all_models

    models = args.models.split(",") if args.models else [s.name for s in all_models() if s.implemented]
    rows, failed = {}, []
    for name in models:
        arts = convert(name, to=("paddlelite", "onnx", "tflite"), precisions=("fp32", "fp16"),
                       lite_targets=("arm", "opencl"), log=lambda msg: None)
        cells = {}
        for a in arts:
            key = (a.format, a.target, a.precision)
            if key in COLUMNS:
                cells["/".join(key)] = {"status": a.manifest.get("status"), "summary": summary(a.manifest),
                                        "sha256": a.manifest.get("sha256"), "weights": a.manifest["source"].get("weights")}
                if a.manifest.get("status") != "ok":
                    failed.append(f"{name} {'/'.join(key)}: {a.manifest.get('parity', {}).get('reason')}")
        rows[name] = cells
        print(f"{name}: " + "; ".join(f"{k} {v['summary']}" for k, v in cells.items()))
    versions = {p: version(p) for p in ("paddlepaddle", "paddlelite", "paddle2onnx", "onnx2tf", "tensorflow",
                                        "ai-edge-litert", "onnxruntime")}
    if not args.no_write:
        head = ["Model"] + ["/".join(c) for c in COLUMNS]
        lines = ["# Conversion parity of the built-in zoo", "",
                 "Written by `scripts/parity_table.py` from the artifacts' manifests. Every artifact was run on this "
                 "machine against the Paddle reference on the same images, except arm/opencl `.nb` files, which "
                 "cannot run on x86 and are trusted as far as their x86 twin (same program, same passes) passed. "
                 "Weights: untrained (seed 0), see README.", "",
                 f"Machine: {platform.machine()}, Python {platform.python_version()}; "
                 + ", ".join(f"{k} {v}" for k, v in versions.items()), "",
                 "| " + " | ".join(head) + " |", "|" + " :--- |" * len(head)]
        for name, cells in rows.items():
            lines.append("| " + " | ".join([name] + [cells.get("/".join(c), {}).get("summary", "-") for c in COLUMNS]) + " |")
        (ROOT / "bench_results" / "parity.md").write_text("\n".join(lines) + "\n")
        (ROOT / "bench_results" / "parity.json").write_text(
            json.dumps({"versions": versions, "models": rows, "failed": failed}, indent=2) + "\n")
    for f in failed:
        print("FAILED", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
