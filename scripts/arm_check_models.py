"""Run `edgekit convert MODEL --arm-check` from the CLI on zoo models, one at a time, and record what the ARM
check cost. Each model is converted first without the check (filling the cache), then again with it (the
conversion now comes from the cache), so the second run's time is the check's: the emulated aarch64 run of
every TFLite file, the host LiteRT run it is compared with, and the CLI's start-up. These are costs of the
CHECK on this x86 machine, never latencies of a model.

    .venv/bin/python scripts/arm_check_models.py -o OUT MODEL [...] [--nice 10] [--cost bench_results/arm_check_cost_dense.json]
    .venv/bin/python scripts/arm_parity_table.py OUT
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from children_cpu import children_cpu  # scripts/: a script's own folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent


def _cli(args: list[str], nice: int) -> tuple[subprocess.CompletedProcess, float, float]:
    cmd = (["nice", "-n", str(nice)] if nice else []) + [sys.executable, "-m", "edge_kit.cli", *args]
    c0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    return proc, round(time.perf_counter() - t0, 1), round(children_cpu() - c0, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("-o", "--output", required=True, help="the convert -o folder (arm_parity_table.py reads it)")
    ap.add_argument("--precision", default="fp32,fp16")
    ap.add_argument("--nice", type=int, default=10, help="other work on the machine keeps its share of the CPU")
    ap.add_argument("--cost", default=str(ROOT / "bench_results" / "arm_check_cost_dense.json"))
    args = ap.parse_args()
    cost = Path(args.cost)
    record = json.loads(cost.read_text()) if cost.exists() else {
        "what": "cost of `edgekit convert MODEL --to tflite --arm-check` with the conversion already cached: the "
                "emulated aarch64 run (qemu-aarch64-static -cpu cortex-a76, tflite-runtime 2.14) of each TFLite "
                "file on the images the budget allows (edge_kit.arm_budget), the host LiteRT run it is compared "
                "with, and the CLI's start-up; not a latency of any model",
        "host": f"x86_64, {os.cpu_count()} cores, shared with other work (nice -n {args.nice}): wall time is "
                "inflated by the load, CPU time is the better figure", "models": {}}
    for model in args.models:
        common = ["convert", model, "--to", "tflite", "--precision", args.precision]
        first, conv_wall, conv_cpu = _cli(common, args.nice)
        print(f"{model}: conversion {conv_wall} s wall, {conv_cpu} s CPU (exit {first.returncode})", flush=True)
        load_before = os.getloadavg()
        proc, wall, cpu = _cli(common + ["--arm-check", "-o", args.output], args.nice)
        arm_lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if "arm64" in ln]
        print("\n".join(arm_lines) or proc.stderr[-2000:], flush=True)
        files = {}
        for mf in sorted((Path(args.output) / model).glob("*.tflite.manifest.json")):
            m = json.loads(mf.read_text())
            arm = m.get("parity_arm64") or {}
            plan = arm.get("image_plan") or {}
            files[m["precision"]] = {"status": m["status"], "arm64": arm.get("status"),
                                     "images": plan.get("images"), "of": plan.get("available"),
                                     "gmacs": plan.get("gmacs"),
                                     "estimated_cpu_s_per_image": plan.get("estimated_cpu_s_per_image")}
        record["models"][model] = {
            "exit": proc.returncode, "check_wall_s": wall, "check_cpu_s": cpu,
            "conversion_wall_s": conv_wall, "conversion_cpu_s": conv_cpu,
            "estimated_check_cpu_s": round(sum((f["estimated_cpu_s_per_image"] or 0) * (f["images"] or 0)
                                               for f in files.values()), 1),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": files}
        cost.write_text(json.dumps(record, indent=1) + "\n")
        print(f"{model}: arm check {wall} s wall, {cpu} s CPU (estimate "
              f"{record['models'][model]['estimated_check_cpu_s']} s), exit {proc.returncode}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
