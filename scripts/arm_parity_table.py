"""The ARM-kernel record: for every TFLite artifact under DIR (the -o of `edgekit convert --arm-check`), the
host (x86) parity and the emulated aarch64 parity its manifest holds, as a markdown table.

    .venv/bin/python scripts/arm_parity_table.py DIR [--out bench_results/arm_parity.md]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cell(parity: dict | None) -> str:
    if not parity:
        return "not checked"
    m = parity.get("metrics", {})
    parts = [parity.get("status", "?")]
    if m.get("outputs"):
        o = min(m["outputs"], key=lambda o: o["cosine"])
        parts.append(f"cos {o['cosine']:.6f}, max abs {o['max_abs']:.1e}")
    if "top1_agreement" in m:
        parts.append(f"top1 {m['top1_agreement']:.0%}")
    return ", ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--out", default=str(ROOT / "bench_results" / "arm_parity.md"))
    args = ap.parse_args()
    rows, env = [], None
    for mf in sorted(Path(args.dir).rglob("*.tflite.manifest.json")):
        m = json.loads(mf.read_text())
        arm = m.get("parity_arm64")
        env = env or arm
        host = (arm or {}).get("vs_host_x86") or []
        rows.append(f"| {m['model']} | {m['precision']} | {cell(m.get('parity'))} | {cell(arm)} | "
                    f"{max((h['max_abs'] for h in host), default=float('nan')):.1e} | {m['status']} |")
    head = ["# TFLite artifacts on aarch64 kernels (emulated)", ""]
    if env:
        head += [f"{env['label']}: {env['runtime']}; {env['userland']}; {env['emulator']}. The same parity "
                 f"images and reference as the host parity ({env['reference']}, {env['images']}). Emulated runs "
                 "are not timed.", ""]
    head += ["| model | precision | host parity (x86 LiteRT) | arm64 parity (emulated) | max abs, arm64 vs x86 | "
             "status |", "|---|---|---|---|---|---|"]
    text = "\n".join(head + rows) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
