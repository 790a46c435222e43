"""What running the x86 .nb's parity check in a child process costs a conversion (before/after that change).

    .venv/bin/python scripts/bench_lite_child.py --label after [--tree DIR] [--rounds N] [-o bench_results/lite_child_parity.json]

Each run is a fresh `edgekit convert ... --json` process into an empty cache (cold: reference, Opt, parity):
  MobileNetV3_small_ssld to the default formats (the whole conversion's wall time), and
  FastSCNN --to paddlelite (a dense model: 8 parity images of 512x512, a 512x512 label map out of each; its
  `paddlelite x86 fp32` stage and that stage's parity time, the manifest's verify_seconds).
With the child in the tree, each run then times that .nb's parity run 5 times in a process where
Paddle-Lite is already imported and 5 times through the child: the child's own cost (Python start,
imports, the outputs' .npz).
`--tree` runs another checkout's code (e.g. `git archive` of the commit before the change), so before and
after are measured by the same script. Results are appended under `--label` with the load average before
and after each run: this 2-core machine is shared, so the figures say how loaded it was.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from children_cpu import children_cpu  # scripts/: a script's own folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
RUNS = (("MobileNetV3_small_ssld", ()), ("FastSCNN", ("--to", "paddlelite")))


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else ():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


OVERHEAD = """
import json, statistics, sys, time
from pathlib import Path
from edge_kit.conversion import lite_parity
from edge_kit.conversion.reference import parity_input_list
from edge_kit.infer import run_artifact
nb, inputs, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
run_artifact("paddlelite", "x86", nb, parity_input_list(inputs))  # paddlelite imported and warm in this process
def clock(fn):
    t = []
    for _ in range(n):
        t0 = time.perf_counter(); fn(); t.append(time.perf_counter() - t0)
    return round(statistics.median(t), 3)
inproc = clock(lambda: run_artifact("paddlelite", "x86", nb, parity_input_list(inputs)))
child = clock(lambda: lite_parity.run_nb(nb, inputs, model="m", stage="parity"))
print(json.dumps({"in_process_s": inproc, "child_s": child, "child_extra_s": round(child - inproc, 3), "repeats": n}))
"""


def overhead(tree: Path, cache: Path, env: dict) -> dict | None:
    """The parity run of the cold run's x86 .nb, in this process's style (runtime already imported) against a
    child (lite_parity.run_nb): median of 5 each; only for a tree that has the child."""
    if not (tree / "edge_kit" / "conversion" / "lite_parity.py").exists():
        return None
    nb = next(cache.rglob("*.x86.fp32.nb"))
    inputs = next(cache.rglob("parity_inputs.npz"))
    proc = subprocess.run([sys.executable, "-c", OVERHEAD, str(nb), str(inputs), "5"], cwd=tree, env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"overhead: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def one_run(tree: Path, model: str, extra: tuple) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="edgekit-bench-lite-"))
    env = {**os.environ, "EDGEKIT_CACHE": str(cache), "PYTHONPATH": str(tree)}
    load_before, cpu0, t0 = os.getloadavg(), children_cpu(), time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "edge_kit.cli", "convert", model, *extra, "--json"],
                              cwd=tree, env=env, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
        if proc.returncode not in (0, 3):
            raise SystemExit(f"{model}: exit {proc.returncode}: {proc.stderr[-2000:]}")
        out = json.loads(proc.stdout)
        child_cost = overhead(tree, cache, env)  # after the conversion's wall and CPU were taken
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    x86 = next(a for a in out["artifacts"] if a["format"] == "paddlelite" and a["target"] == "x86")
    stage = next(s for s in out["stages"] if s["stage"] == "paddlelite x86 fp32")
    return {"model": model, "args": list(extra), "process_wall_s": round(wall, 2), "edgekit_wall_s": out["seconds"],
            "cpu_s": round(cpu, 2), "failed": out["failed"],
            "x86_fp32_stage_s": stage["seconds"], "x86_fp32_parity_s": x86.get("verify_seconds"),
            "x86_fp32_parity": x86["parity"]["status"], "stages": out["stages"],
            **({"parity_child_overhead": child_cost} if child_cost else {}),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True, help="e.g. before / after")
    ap.add_argument("--tree", default=str(ROOT), help="the checkout whose code runs (default: this one)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("-o", "--output", default=str(ROOT / "bench_results" / "lite_child_parity.json"))
    args = ap.parse_args()
    tree = Path(args.tree).resolve()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    runs = []
    for r in range(args.rounds):
        for model, extra in RUNS:
            runs.append({"round": r, **one_run(tree, model, extra)})
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "stages"}), flush=True)
    path = Path(args.output)
    doc = json.loads(path.read_text()) if path.exists() else {
        "schema": "edgekit.lite_child_parity/1",
        "what": "cold `edgekit convert` runs (fresh process, empty cache): MobileNetV3_small_ssld to the default "
                "formats, FastSCNN --to paddlelite; the x86 .nb's parity in-process (before) or in a child (after)",
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(),
                    "python": platform.python_version()},
        "measurements": []}
    doc["measurements"].append({"label": args.label, "tree": str(tree), "worktree_head": commit,
                                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "note": "shared 2-core machine: see each run's load average", "runs": runs})
    path.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
