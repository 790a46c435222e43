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


def cell(manifest: dict, parity: dict | None) -> str:
    """A parity verdict as the zoo's parity table words it (edge_kit.parity_text)."""
    from edge_kit.parity_text import render

    if not parity:
        return "not checked"
    if parity.get("status") == "error":
        return f"error: {parity.get('reason', '')[:120]}"
    return render({**manifest, "parity": parity}, "cell")


def images(arm: dict | None) -> str:
    """How many of the host parity's images the emulated run used (dense models: edge_kit.arm_budget)."""
    plan = (arm or {}).get("image_plan")
    if not plan:  # entries from before the image budget ran every host parity image
        n = str(arm.get("images", "")).split(" ")[0] if arm else ""
        return f"{n}/{n}" if n.isdigit() else n
    est = plan.get("estimated_cpu_s_per_image")
    return f"{plan['images']}/{plan['available']}" + (f" (~{est:.3g} CPU-s each)" if est else "")


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
        rows.append(f"| {m['model']} | {m['precision']} | {cell(m, m.get('parity'))} | {cell(m, arm)} | "
                    f"{images(arm)} | {max((h['max_abs'] for h in host), default=float('nan')):.1e} | "
                    f"{m['status']} |")
    head = ["# TFLite artifacts on aarch64 kernels (emulated)", ""]
    if env:
        head += [f"{env['label']}: {env['runtime']}; {env['userland']}; {env['emulator']}. The reference is the "
                 f"host parity's ({env['reference']}), and so are the images: all of them where the emulated "
                 "cost allows, else the first ones that fit the budget (edge_kit.arm_budget: at least one; "
                 "the images column). \"max abs, arm64 vs x86\" compares the ARM kernels' outputs with x86 "
                 "LiteRT's on the same file and images, element by element. Emulated runs are not timed.", ""]
    head += ["| model | precision | host parity (x86 LiteRT) | arm64 parity (emulated) | images (arm64) | "
             "max abs, arm64 vs x86 | status |", "|---|---|---|---|---|---|---|"]
    text = "\n".join(head + rows) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
