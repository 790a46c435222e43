"""Summarise the TensorRT ONNX files `edgekit trtexec-commands` prepared: one row per model and precision
with size, audit fixes and the onnxruntime parity result, into bench_results/tensorrt_onnx.md.

    python scripts/tensorrt_onnx_table.py trt_onnx [-o bench_results/tensorrt_onnx.md]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge_kit.manifest import Artifact  # noqa: E402


def _headline(parity: dict) -> str:
    checks = parity.get("checks") or []
    keep = [c for c in checks if any(k in c["name"] for k in ("top1", "top5", "ap50", "miou", "pixel", "cosine", "matched", "agreement"))]
    worst: dict[str, dict] = {}
    for c in keep:  # one line per check kind: its worst value
        kind = c["name"].split(".")[-1]
        if kind not in worst or (c["value"] < worst[kind]["value"]):
            worst[kind] = c
    return "; ".join(f"{k} {c['value']:.6g} (gate {c['rule'].split()[-2]} {c['limit']:g})" for k, c in worst.items())


def _clamped(m: dict) -> str:
    if m["precision"] != "fp16":
        return "-"
    value = (m.get("tensorrt") or {}).get("fp16_clamped_values")
    return "not recorded" if value is None else str(value)  # manifests from before the count existed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("-o", "--output", type=Path, default=Path("bench_results/tensorrt_onnx.md"))
    args = ap.parse_args()
    rows = []
    for path in sorted(args.root.glob("*/*.trt.*.onnx")):
        m = Artifact.load(path).manifest
        trt = m.get("tensorrt") or {}
        fixes = [f"{f['op']} {f['node']}: {f['message']}" for f in trt.get("audit", []) if f["severity"] != "error"]
        rows.append(f"| {m['model']} | {m['precision']} | {m['bytes'] / 1e6:.2f} | {m['opset']} | "
                    f"{m['status']} | {m['parity'].get('status')} | {_headline(m['parity'])} | "
                    f"{_clamped(m)} | {'; '.join(fixes) or '-'} |")
    if not rows:
        print(f"no prepared TensorRT ONNX under {args.root}", file=sys.stderr)
        return 1
    text = "\n".join([
        "# ONNX prepared for TensorRT (edgekit trtexec-commands)", "",
        "Checked with onnxruntime (CPU) against edgekit's verified ONNX on each model's own images, with the "
        "project's gates. This verifies the prepared graphs, not TensorRT: no TensorRT engine was built "
        "(no GPU here). Untrained seeded weights, as everywhere in edgekit. Made by `edgekit trtexec-commands "
        "[MODELS] -o DIR`, summarised by `python scripts/tensorrt_onnx_table.py DIR`.", "",
        "| model | precision | MB | opset | status | parity | worst check | fp16 clamped weights | audit notes |",
        "|---|---|---|---|---|---|---|---|---|", *rows, ""])
    args.output.write_text(text)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
