"""Conversion speed, cold and warm, against a bare onnx2tf run of the same ONNX (issue: conversion speed).

    .venv/bin/python scripts/bench_conversion.py [MODELS...] [--zoo [--zoo-models A,B] [--jobs N]] [--skip-models]
                                                 [--rounds N] [-o bench_results/conversion_speed.json]

For each model, in one run and in fresh processes each time:
  bare   `onnx2tf.convert(onnx, output_folder)` with onnx2tf's defaults on edgekit's ONNX of the model
         (process wall, Python start and imports included, as a user would run it);
  cold   `convert(MODEL)` to every default format with parity, into an empty cache (process wall), with
         edgekit's own per-stage times;
  warm   the same conversion again from that cache (process wall).
bare and cold alternate over the rounds so machine drift hits both; the ratio cold / bare is the figure.
With --zoo, also the whole lightweight zoo, all formats, fp32 + fp16, cold, in one process, --jobs models
at a time (edge_kit.conversion.many, as `edgekit convert A B ...` does), with the CPU time of the
whole process tree (user + system) beside the wall time: on a shared machine it moves less than the wall
time (contention still inflates it), the order the models started in and when each started and ended.

It writes what it measured and on what (CPU, cores, load average before and after, tool versions).
Numbers measured on a loaded machine are kept but flagged by their load average.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from children_cpu import children_cpu  # scripts/: a script's own folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
LIGHTWEIGHT = ("MobileNetV3_small_ssld", "MobileNetV3_large_ssld", "MobileNetV2", "ShuffleNetV2",
               "YOLOv3-MobileNetV1", "YOLOv3-MobileNetV3_large", "DeepLabv3p-MobileNetV2_x1.0",
               "DeepLabv3-MobileNetV3_large_x1_0_ssld", "FastSCNN", "HRNet_W18_Small_v1")

CONVERT = """
import json, sys, time
from edge_kit.conversion.many import convert_many, schedule
models, precisions, jobs = sys.argv[1].split(","), tuple(sys.argv[2].split(",")), int(sys.argv[3])
out, t0 = [], time.perf_counter()
order = schedule(models)  # the start order convert_many uses (longest expected first)
for o in convert_many(models, jobs=jobs, precisions=precisions, log=lambda line: None):
    if not o.ok:
        raise SystemExit(f"{o.model}: {o.error}")
    out.append({"model": o.model, "seconds": o.conversion.seconds, "stages": o.conversion.stages,
                "failed": [a.path.name for a in o.conversion if not a.ok], "start_rank": order.index(o.model),
                "started_at_s": round(o.started - t0, 1), "ended_at_s": round(o.ended - t0, 1)})
print("EDGEKIT_RESULT " + json.dumps(out))
"""

BARE = """
import sys, onnx2tf
onnx2tf.convert(input_onnx_file_path=sys.argv[1], output_folder_path=sys.argv[2], non_verbose=True)
"""


CPU = {"last_s": 0.0}  # CPU seconds (user + system) of the last _run, its whole process tree


def _run(code: str, args: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    CPU["last_s"] = children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.stdout


def _env(cache: Path) -> dict:
    return {**os.environ, "EDGEKIT_CACHE": str(cache), "PYTHONPATH": str(ROOT)}


def _convert(models: list[str], precisions: str, cache: Path, cwd: Path, jobs: int = 1) -> tuple[float, list]:
    wall, out = _run(CONVERT, [",".join(models), precisions, str(jobs)], _env(cache), cwd)
    line = next(ln for ln in out.splitlines() if ln.startswith("EDGEKIT_RESULT "))
    return wall, json.loads(line[len("EDGEKIT_RESULT "):])


def _onnx_of(model: str, cache: Path, cwd: Path) -> Path:
    """edgekit's ONNX of the model (from the cache of a cold run), copied out for the bare onnx2tf runs."""
    found = sorted(cache.glob(f"artifacts/onnx/*/{model}.onnx"))
    if not found:
        raise SystemExit(f"no ONNX of {model} in {cache}")
    dest = cwd / f"{model}.onnx"
    shutil.copy2(found[0], dest)
    return dest


def _bare(onnx_file: Path, work: Path) -> float:
    # onnx2tf fetches a calibration file from the internet unless one of that name is in its working
    # directory (the same file edgekit's TFLite stage puts there); give the bare run the same.
    sys.path.insert(0, str(ROOT))
    from edge_kit.conversion.stages import onnx2tf_calibration

    run_dir = Path(tempfile.mkdtemp(dir=work))
    onnx2tf_calibration(run_dir)
    wall, _ = _run(BARE, [str(onnx_file), str(run_dir / "out")], _env(work / "unused-cache"), run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)
    return wall


def bench_model(model: str, rounds: int, work: Path) -> dict:
    colds, bares, warms, stages = [], [], [], []
    for r in range(rounds):
        cache = work / f"cache-{model}-{r}"
        cold, result = _convert([model], "fp32", cache, work)
        colds.append(cold)
        stages.append(result[0]["stages"])
        if result[0]["failed"]:
            raise SystemExit(f"{model}: failed artifacts {result[0]['failed']}")
        onnx_file = _onnx_of(model, cache, work)
        bares.append(_bare(onnx_file, work))
        warm, _ = _convert([model], "fp32", cache, work)
        warms.append(warm)
        shutil.rmtree(cache, ignore_errors=True)
    cold, bare = statistics.median(colds), statistics.median(bares)
    return {"model": model, "rounds": rounds, "cold_s": [round(x, 2) for x in colds],
            "bare_onnx2tf_s": [round(x, 2) for x in bares], "warm_s": [round(x, 2) for x in warms],
            "cold_median_s": round(cold, 2), "bare_median_s": round(bare, 2),
            "warm_median_s": round(statistics.median(warms), 2),
            "cold_over_bare": round(cold / bare, 3), "stages_of_last_cold_run": stages[-1]}


def bench_zoo(work: Path, jobs: int, models: tuple = LIGHTWEIGHT) -> dict:
    cache = work / "cache-zoo"
    load = os.getloadavg()
    wall, results = _convert(list(models), "fp32,fp16", cache, work, jobs)
    shutil.rmtree(cache, ignore_errors=True)
    return {"models": list(models), "precisions": ["fp32", "fp16"], "jobs": jobs, "cold_wall_s": round(wall, 1),
            "cpu_s": round(CPU["last_s"], 1), "load_average_before": load, "load_average_after": os.getloadavg(),
            "per_model_s": {r["model"]: r["seconds"] for r in results},
            "start_order": [r["model"] for r in sorted(results, key=lambda r: r["start_rank"])],
            "started_ended_at_s": {r["model"]: [r["started_at_s"], r["ended_at_s"]] for r in results},
            "failed": {r["model"]: r["failed"] for r in results if r["failed"]},
            "stages": {r["model"]: r["stages"] for r in results}}


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(), "python": platform.python_version(),
            "tools": {n: version(n) for n in ("paddlepaddle", "paddlelite", "paddle2onnx", "onnx2tf", "tensorflow",
                                               "ai-edge-litert", "onnxruntime")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["MobileNetV3_small_ssld"])
    parser.add_argument("--skip-models", action="store_true", help="only the zoo run (with --zoo)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--zoo", action="store_true", help="also the lightweight zoo, all formats, fp32+fp16, cold")
    parser.add_argument("--jobs", type=int, default=2, help="the zoo's models converted at a time (convert_many; "
                        "default: %(default)s, what `edgekit convert A B ... ` does)")
    parser.add_argument("--zoo-models", default=",".join(LIGHTWEIGHT), metavar="A,B,...",
                        help="with --zoo: these models instead of the whole lightweight zoo (a subset, e.g. to "
                        "compare --jobs)")
    parser.add_argument("-o", "--output", default=str(ROOT / "bench_results" / "conversion_speed.json"))
    args = parser.parse_args()
    record = {"schema": "edgekit.conversion_speed/1", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": machine(), "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="edgekit-convbench-") as tmp:
        record["models"] = []
        for m in ([] if args.skip_models else args.models):
            r = bench_model(m, args.rounds, Path(tmp))
            record["models"].append(r)
            print(f"{m}: cold {r['cold_median_s']} s, bare onnx2tf {r['bare_median_s']} s "
                  f"(ratio {r['cold_over_bare']}), warm {r['warm_median_s']} s", flush=True)
        if args.zoo:
            zoo = tuple(args.zoo_models.split(","))
            record["zoo"] = bench_zoo(Path(tmp), args.jobs, zoo)
            what = "lightweight zoo" if set(zoo) == set(LIGHTWEIGHT) else ", ".join(zoo)
            print(f"{what}, all formats, fp32+fp16, cold, {args.jobs} at a time: "
                  f"{record['zoo']['cold_wall_s']} s wall, {record['zoo']['cpu_s']} s CPU", flush=True)
    record["load_average_after"] = os.getloadavg()
    Path(args.output).write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
