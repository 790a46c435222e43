"""What does the ARM check (`edgekit convert --arm-check`) add to a conversion? Measures the emulated
aarch64 run of TFLite artifacts already converted (their manifests name model and precision): wall time
and CPU time of the qemu process, and the emulator's fixed start-up cost (python + numpy + tflite_runtime
imports, no model). These are costs of the CHECK on this x86 machine, not latencies of any model.

    .venv/bin/python scripts/bench_arm_check.py FILE.tflite [...] [--out bench_results/arm_check_cost.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from children_cpu import children_cpu  # scripts/: a script's own folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from converters import arm_emulation  # noqa: E402
from edge_kit.images import natural_images  # noqa: E402
from edge_kit.manifest import Artifact  # noqa: E402


def measure(fn):
    c0, t0 = children_cpu(), time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2), round(children_cpu() - c0, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--images", type=int, default=8, help="parity images per file (convert uses 8)")
    ap.add_argument("--cpu", default=arm_emulation.DEFAULT_CPU)
    ap.add_argument("--out", default="bench_results/arm_check_cost.json")
    args = ap.parse_args()
    env = arm_emulation.find_env()
    load_before = os.getloadavg()
    startup = [env.qemu, "-cpu", args.cpu, "-L", str(env.root), str(env.python), "-I", "-c",
               f"import sys; sys.path.insert(0, {str(env.site)!r}); import numpy, tflite_runtime.interpreter"]
    _, start_wall, start_cpu = measure(lambda: subprocess.run(startup, check=True))
    rows = []
    for f in args.files:
        art = Artifact.load(Path(f))
        m = art.manifest
        shape = m["inputs"][0]["shape"]
        h, w = shape[1:3] if m["inputs"][0].get("layout") == "NHWC" else shape[2:4]
        # Values do not change the cost; the images are edgekit's, scaled as ImageNet models expect.
        x = np.ascontiguousarray((natural_images(args.images, h, w, seed=42) / 255.0 - 0.45).astype(np.float32)
                                 .transpose(0, 3, 1, 2) / 0.225)
        _, wall, cpu = measure(lambda: arm_emulation.run_tflite(env, [art.path], [x], cpu=args.cpu))
        rows.append({"model": m["model"], "precision": m["precision"], "file_mb": round(m["bytes"] / 1e6, 2),
                     "images": args.images, "wall_s": wall, "cpu_s": cpu,
                     "cpu_s_per_image_after_startup": round((cpu - start_cpu) / args.images, 2)})
        print(json.dumps(rows[-1]))
    record = {"what": "cost of the emulated aarch64 ARM check (one qemu process per file here; convert runs "
                      "all TFLite files of a model in one process, paying start-up once)",
              "emulator": env.info.get("qemu"), "cpu": args.cpu, "runtime": f"tflite-runtime {env.info.get('tflite_runtime')}",
              "host": f"{platform.machine()} {os.cpu_count()} cores", "loadavg_before": load_before,
              "loadavg_after": os.getloadavg(), "startup_wall_s": start_wall, "startup_cpu_s": start_cpu,
              "files": rows, "note": "measured on a shared, loaded machine: wall time is inflated by the load; "
                                     "CPU time is the better figure"}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(f"startup: {start_wall} s wall, {start_cpu} s CPU; written {args.out}")


if __name__ == "__main__":
    main()
