"""int8 vs fp32 on this host's LiteRT for the lightweight classifiers, a detector and a segmenter: latency
ratio, file-size ratio and how far int8 moves the answers (agreement with the fp32 model by the task metric:
top-1, AP50, mIoU, from the int8 file's parity record).

    .venv/bin/python scripts/bench_int8.py [--models M1,M2] [--threads 1,2] [--repeats 100] [--cpu-rounds 60]

Each model's fp32 and int8 TFLite cells are timed by `edgekit bench`'s harness in interleaved turns
(A B A B ...), so drift from other processes hits both alike; records go to bench_results/int8/results.jsonl
(--force: always re-measured, never mixed with older fp32 cells). The int8 files are calibrated on
edgekit's generated images (what `bench` does; latency does not depend on the calibration content).
The load average before and after is recorded: on a shared machine it is part of the result.
Writes bench_results/int8_vs_fp32.json and .md. Goal from issue 13: int8 at most 0.6x fp32.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_kit.bench import harness  # noqa: E402
from edge_kit.bench.host_device import HostDevice, describe_host  # noqa: E402
from edge_kit.bench.store import ResultStore  # noqa: E402
from edge_kit.manifest import Artifact, atomic_write_text  # noqa: E402

MODELS = ("MobileNetV3_small_ssld", "ShuffleNetV2", "MobileNetV3_large_ssld", "MobileNetV2",  # the goal's models
          "YOLOv3-MobileNetV1", "FastSCNN")                                               # a detector, a segmenter
GOAL = 0.6
QUIET_LOAD = 1.0  # a 1-minute load average at or above this before the run: other jobs were running
# The agreement with fp32 each task's parity records (parity.metrics), and what the table calls it.
AGREEMENT = {"classification": ("top1_agreement", "top-1"), "detection": ("ap50_vs_reference", "AP50"),
             "semantic_segmentation": ("miou_vs_reference", "mIoU")}


def cpu_time_medians(fp32: Path, int8: Path, rounds: int = 60) -> dict:
    """Median CPU time (time.thread_time) of one invoke, fp32 and int8 in alternating turns, 1 thread.
    With one thread LiteRT runs the graph on the calling thread, so its CPU time is the inference's own
    work: time spent waiting for a core on a loaded machine is not counted, which wall time does count."""
    import statistics

    from edge_kit.bench.runtimes.inputs import make_inputs
    from edge_kit.runtimes import open_runtime

    sessions = {}
    for tag, path in (("fp32", fp32), ("int8", int8)):
        sess = open_runtime("tflite", path, 1)
        sess.feed(make_inputs(Artifact.load(path)))
        for _ in range(5):
            sess.invoke()
        sessions[tag] = sess
    samples = {"fp32": [], "int8": []}
    for _ in range(rounds):
        for tag, sess in sessions.items():
            t0 = time.thread_time()
            sess.invoke()
            samples[tag].append((time.thread_time() - t0) * 1e3)
    return {tag: round(statistics.median(v), 3) for tag, v in samples.items()}


def _agreement(r: dict) -> str:
    """"top-1 58% (passed by the baseline rule: onnxruntime int8 33%)": the int8 file's task-metric agreement with
    fp32 on the parity images, and how its parity passed."""
    def fmt(v):
        return "-" if v is None else f"{v:.0%}" if r["agreement_metric"] == "top-1" else f"{v:.2f}"

    how = r["int8_parity"]
    if r["int8_passed_by_baseline"]:
        how = f"passed by the baseline rule: onnxruntime int8 {fmt(r['baseline_agreement'])}"
    return f"{r['agreement_metric']} {fmt(r['agreement_vs_fp32'])} ({how})"


def _cell(latest: dict, key: str):
    """The newest record of a cell. The store keys a cell `key@<machine id>` when records of two machine ids
    hold it: this host's records from before describe_host() wrote a machine_id get another id than newer ones."""
    found = [r for k, r in latest.items() if k == key or k.startswith(key + "@")]
    return max(found, key=lambda r: r.timestamp, default=None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--cpu-rounds", type=int, default=60,
                    help="fp32/int8 turns for the 1-thread CPU-time medians (a YOLO turn is about a second here)")
    ap.add_argument("--out", default=str(ROOT / "bench_results"))
    ap.add_argument("--summarize-only", action="store_true",
                    help="measure nothing: write the summary from the records already in bench_results/int8/ "
                         "(e.g. after an interrupted run); the load average is then the one now")
    ap.add_argument("--from", dest="from_dir", metavar="DIR",
                    help="time the fp32/int8 TFLite files already in DIR/<model>/ (what `edgekit convert MODEL --to "
                         "tflite --precision fp32,int8 --calib builtin -o DIR` wrote) instead of converting")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    threads = [int(t) for t in args.threads.split(",")]
    out = Path(args.out)
    store_dir = out / "int8"
    load_before = os.getloadavg()
    t0 = time.time()
    if not args.summarize_only:
        given = ()
        if args.from_dir:
            given = tuple(Artifact.load(Path(args.from_dir) / m / f"{m}.{p}.tflite") for m in models
                          for p in ("fp32", "int8"))
        summary = harness.run_bench([] if given else models, HostDevice(), backends=["tflite"], threads=threads,
                                    precisions=["fp32", "int8"], repeats=args.repeats, force=True,
                                    results_dir=str(store_dir), progress=False, artifacts=given)
        print(summary.text())
    load_after = os.getloadavg()
    latest = ResultStore(store_dir).latest()
    rows = []
    for model in models:
        for t in threads:
            fp, q = (_cell(latest, f"host|{model}|tflite|{p}|t{t}") for p in ("fp32", "int8"))
            if not (fp and q and fp["status"] == q["status"] == "ok"):
                rows.append({"model": model, "threads": t, "status": "not measured",
                             "reason": (q or fp or {}).get("reason", "missing")})
                continue
            art = Artifact.load(Path(q["artifact"]["path"]))
            parity = art.manifest.get("parity", {})
            metrics = parity.get("metrics", {})
            metric, label = AGREEMENT.get(art.manifest.get("task"), AGREEMENT["classification"])
            fm, qm = fp["measurement"], q["measurement"]
            cpu = (cpu_time_medians(Path(fp["artifact"]["path"]), Path(q["artifact"]["path"]), args.cpu_rounds)
                   if t == 1 else {})
            rows.append({
                "model": model, "threads": t, "status": "ok",
                "fp32_median_ms": round(fm["median_ms"], 3), "int8_median_ms": round(qm["median_ms"], 3),
                "latency_ratio": round(qm["median_ms"] / fm["median_ms"], 3),
                "fp32_cpu_ms": cpu.get("fp32"), "int8_cpu_ms": cpu.get("int8"),
                "cpu_time_ratio": round(cpu["int8"] / cpu["fp32"], 3) if cpu else None,
                "fp32_bytes": fp["artifact"]["bytes"], "int8_bytes": q["artifact"]["bytes"],
                "size_ratio": round(q["artifact"]["bytes"] / fp["artifact"]["bytes"], 3),
                "noisy": bool(fp["flags"].get("noisy") or q["flags"].get("noisy")),
                "int8_parity": parity.get("status"),
                "int8_passed_by_baseline": bool(parity.get("passed_by")),
                "agreement_metric": label, "agreement_vs_fp32": metrics.get(metric),
                "baseline_agreement": parity.get("int8_baseline", {}).get("metrics", {}).get(metric),
                "top5_agreement_vs_fp32": metrics.get("top5_agreement"),
                "int8_loadavg": q["flags"].get("host_load_avg"), "fp32_loadavg": fp["flags"].get("host_load_avg"),
                "calibration": art.manifest.get("quantization", {}).get("calibration", {}).get("source"),
            })
    host = describe_host()
    doc = {"what": "int8 vs fp32 TFLite on LiteRT (XNNPACK), median ms at batch 1, interleaved turns",
           "goal": f"int8 latency at most {GOAL}x fp32", "rows": rows,
           "load_average_before": [round(x, 2) for x in load_before],
           "load_average_after": [round(x, 2) for x in load_after],
           "load_average_note": ("summarized later from stored records: these load averages are from the "
                                 "summary run, not the measurement" if args.summarize_only else
                                 "1/5/15-minute load averages before and after the measurement"),
           "under_load": ("measured under load: other jobs were running" if load_before[0] >= QUIET_LOAD else
                          "the machine was otherwise idle when the run started"),
           "weights": "untrained (edgekit's seeded init): latency and size do not depend on weight values; "
                      "the agreement columns measure quantization damage on these outputs only",
           "calibration": "; ".join(sorted({r["calibration"] for r in rows if r.get("calibration")})) or "-",
           "seconds": round(time.time() - t0, 1),
           "host": {k: host.get(k) for k in ("cpu_model", "cores", "os", "runtimes", "git_revision")}}
    atomic_write_text(out / "int8_vs_fp32.json", json.dumps(doc, indent=2) + "\n")
    lines = ["# int8 vs fp32, LiteRT on this host\n",
             f"{doc['what']}; 1/5/15-minute load average before {doc['load_average_before']}, after "
             f"{doc['load_average_after']} on {os.cpu_count()} cores ({doc['under_load']}). {doc['weights']}. "
             f"Calibration: {doc['calibration']}.\n",
             "Wall-time medians are what `edgekit bench` records; on a loaded machine they include time spent "
             "waiting for a core. The CPU-time columns (1 thread: time.thread_time around each invoke, fp32 and "
             "int8 alternating) count only the inference's own work and are the load-robust ratio.\n",
             "| model | threads | fp32 ms (wall) | int8 ms (wall) | int8/fp32 (wall) | fp32 CPU ms | int8 CPU ms | "
             "int8/fp32 (CPU) | size int8/fp32 | int8 agreement with fp32 (parity) | goal <= 0.6x (CPU) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['model']} | {r['threads']} | not measured: {r['reason']} | | | | | | | | |")
            continue
        cpu = r["cpu_time_ratio"]
        lines.append(f"| {r['model']} | {r['threads']} | {r['fp32_median_ms']:.2f} | {r['int8_median_ms']:.2f} | "
                     f"{r['latency_ratio']:.2f}{' (noisy)' if r['noisy'] else ''} | "
                     f"{r['fp32_cpu_ms'] or '-'} | {r['int8_cpu_ms'] or '-'} | {'-' if cpu is None else f'{cpu:.2f}'} | "
                     f"{r['size_ratio']:.2f} | {_agreement(r)} | "
                     f"{'-' if cpu is None else 'met' if cpu <= GOAL else 'not met'} |")
    atomic_write_text(out / "int8_vs_fp32.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
