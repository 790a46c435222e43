"""Measure the harness itself: overhead against a bare invoke loop, and repeatability.

    .venv/bin/python scripts/bench_overhead.py [--model MobileNetV3_small_ssld] [--backends tflite,onnxruntime]
                                               [--threads 1] [--repeats 200] [--rounds 3]

Overhead: for the same artifact and threads, the harness's median (edgekit bench's path: run_bench ->
runner turns, one backend per run) against a bare loop written directly on the runtime's API (load, set inputs,
`t0; invoke(); t1` N times). Harness and bare runs alternate for `rounds` rounds so drift on the shared
CPU hits both; the medians of the per-round medians are compared. Target: at most 2%.
Repeatability: two back-to-back harness runs of the same cells; target: medians within 3%.
Writes bench_results/harness_overhead.json with where it ran.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_kit.bench import harness  # noqa: E402
from edge_kit.bench.artifacts import convert_on_demand, want_for  # noqa: E402
from edge_kit.bench.cell import Cell  # noqa: E402
from edge_kit.bench.host_device import HostDevice  # noqa: E402
from edge_kit.bench.runtimes.inputs import make_inputs  # noqa: E402
from edge_kit.bench.store import ResultStore  # noqa: E402
from edge_kit.manifest import atomic_write_text  # noqa: E402


def _bare_invoke(backend: str, art, threads: int):
    """A zero-argument invoke built straight on the runtime API, inputs already set."""
    inputs = list(make_inputs(art).values())
    if backend == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=str(art.path), num_threads=threads)
        it.allocate_tensors()
        for d, x in zip(it.get_input_details(), inputs):
            it.set_tensor(d["index"], x.reshape(d["shape"]).astype(d["dtype"]))
        return it.invoke, it
    if backend == "onnxruntime":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        sess = ort.InferenceSession(str(art.path), so, providers=["CPUExecutionProvider"])
        feed = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
        return (lambda: sess.run(None, feed)), sess
    if backend == "paddlelite":
        import ctypes

        import paddlelite
        import paddlelite.lite as lite

        ctypes.CDLL(str(Path(paddlelite.__file__).parent / "libs" / "libiomp5.so")).omp_set_num_threads(threads)
        cfg = lite.MobileConfig()
        cfg.set_model_from_file(str(art.path))
        pred = lite.create_paddle_predictor(cfg)
        for i, x in enumerate(inputs):
            pred.get_input(i).from_numpy(x)
        return pred.run, pred
    if backend == "paddle":
        import paddle.inference as pi

        cfg = pi.Config(str(art.path), str(Path(art.path).with_suffix(".pdiparams")))
        cfg.disable_gpu()
        cfg.disable_mkldnn()
        cfg.set_cpu_math_library_num_threads(threads)
        pred = pi.create_predictor(cfg)
        for name, x in zip(pred.get_input_names(), inputs):
            pred.get_input_handle(name).copy_from_cpu(x)
        return pred.run, pred
    raise SystemExit(f"no bare loop for backend {backend}")


def bare_median(backend: str, art, threads: int, warmup: int, repeats: int) -> float:
    invoke, _keep = _bare_invoke(backend, art, threads)
    for _ in range(warmup):
        invoke()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        invoke()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def harness_medians(model: str, backends: list[str], threads: int, warmup: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        harness.run_bench([model], HostDevice(), backends=backends, threads=(threads,), warmup=warmup,
                          repeats=repeats, force=True, results_dir=tmp, progress=False)
        return {r["backend"]: r["measurement"]["median_ms"] for r in ResultStore(tmp).records()
                if r["status"] == "ok"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="MobileNetV3_small_ssld")
    ap.add_argument("--backends", default="tflite,onnxruntime,paddlelite,paddle")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench_results" / "harness_overhead.json"))
    args = ap.parse_args()
    device = HostDevice()
    backends = [b for b in args.backends.split(",") if b]
    wants = {b: want_for(Cell(args.model, b, "fp32", args.threads, device.name), device) for b in backends}
    got = convert_on_demand(args.model, list(wants.values()))
    arts = {b: got[w] for b, w in wants.items() if not isinstance(got[w], str)}
    per_backend = {b: {"harness_ms": [], "bare_ms": []} for b in arts}
    for rnd in range(args.rounds):
        # One backend per harness run: turns between different runtimes cool each other's caches, which
        # is a property of interleaving, not overhead of the timing code; bare and harness alternate.
        for b, art in arts.items():
            per_backend[b]["harness_ms"] += harness_medians(args.model, [b], args.threads, args.warmup,
                                                            args.repeats).values()
            per_backend[b]["bare_ms"].append(bare_median(b, art, args.threads, args.warmup, args.repeats))
        print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    results = {}
    for b, d in per_backend.items():
        h, bare = statistics.median(d["harness_ms"]), statistics.median(d["bare_ms"])
        r1, r2 = d["harness_ms"][0], d["harness_ms"][1] if len(d["harness_ms"]) > 1 else None
        rep = abs(r1 - r2) / min(r1, r2) if r2 else None  # rounds 1 and 2 are back-to-back harness runs
        results[b] = {**d, "harness_median_ms": h, "bare_median_ms": bare, "overhead": h / bare - 1,
                      "overhead_ok": h / bare - 1 <= 0.02, "repeatability_rel_diff": rep,
                      "repeatability_ok": rep is not None and rep <= 0.03}
        print(f"{b}: harness {h:.3f} ms, bare {bare:.3f} ms, overhead {h / bare - 1:+.2%}, "
              f"back-to-back diff {rep if rep is None else f'{rep:.2%}'}")
    doc = {"what": "harness median vs bare invoke loop; back-to-back repeatability",
           "measured_on": device.describe(), "model": args.model, "threads": args.threads, "precision": "fp32",
           "warmup": args.warmup, "repeats": args.repeats, "rounds": args.rounds, "simulated": False,
           "targets": {"overhead_max": 0.02, "repeatability_max": 0.03}, "results": results,
           "artifacts": {b: str(a.path) for b, a in arts.items()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(args.out), json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(r["overhead_ok"] and r["repeatability_ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
