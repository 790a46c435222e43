"""`edgekit bench --device gpu --backend tensorrt`: prepared ONNX -> cached engine -> CUDA-event timing.

Checks for TensorRT, cuda-bindings and a GPU before converting anything; without them it stops with
one line saying which is missing (GpuUnavailable). Each cell's record is appended as soon as it is known.
"""
from __future__ import annotations

import sys
from pathlib import Path

from edge_kit.errors import EdgekitError

PRECISIONS = ("fp32", "fp16")


def run_gpu_bench(models: list[str], precisions: list[str], *, warmup: int, iterations: int,
                  results_dir: str = "bench_results", onnx_dir: str = "trt_onnx", force: bool = False,
                  weak_fp16: bool = False) -> tuple[list[str], list[tuple[str, str]], str]:
    """Returns (measured keys, [(key, why failed)], device name)."""
    from edge_kit.gpu import trt_runtime as rt
    from edge_kit.gpu.model_prep import prepare_model
    from edge_kit.gpu.records import failed_gpu_record, measured_record, record_key, gpu_device
    from edge_kit.bench.store import ResultStore
    from edge_kit.images import sample_inputs
    from edge_kit.zoo import get_model

    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        raise EdgekitError(f"--device gpu precision {bad[0]!r}: choose from {', '.join(PRECISIONS)}")
    ok, why = rt.gpu_status()
    if not ok:
        raise rt.GpuUnavailable(f"--device gpu skipped, nothing measured: {why}")
    gpu = rt.describe_gpu(0)
    trt_version = rt.tensorrt_version()
    device = gpu_device(gpu["gpu"])
    store = ResultStore(results_dir)
    store.check_writable()
    done = store.done_keys()
    measured, failed = [], []
    for name in models:
        spec = get_model(name)
        need = sorted({"fp32" if weak_fp16 else p for p in precisions}, key=PRECISIONS.index)
        try:
            prepared = {a.precision: a for a in prepare_model(spec.name, Path(onnx_dir), need)}
        except EdgekitError as err:
            for p in precisions:
                key = record_key(device, spec.name, p, trt_version)
                store.append(failed_gpu_record(spec.name, p, gpu, trt_version, f"ONNX preparation failed: {err}"))
                failed.append((key, str(err)))
            continue
        image = sample_inputs(spec, n=1)
        for prec in precisions:
            key = record_key(device, spec.name, prec, trt_version)
            if key in done and not force:
                print(f"edgekit: {key} already measured; --force re-measures", file=sys.stderr)
                continue
            art = prepared["fp32" if weak_fp16 else prec]
            try:
                eng = rt.build_engine(art.path, prec, onnx_sha256=art.manifest.sha256, gpu=gpu,
                                      weak_fp16=weak_fp16 and prec == "fp16")
                feeds = {art.manifest.inputs[0]["name"]: image}
                samples = rt.time_engine(eng.path, feeds, warmup=warmup, iterations=iterations)
            except EdgekitError as err:
                store.append(failed_gpu_record(spec.name, prec, gpu, trt_version, str(err)))
                failed.append((key, str(err)))
                continue
            rec = measured_record(spec.name, prec, samples, gpu, trt_version=trt_version,
                                  engine={"path": str(eng.path), "build_seconds": round(eng.seconds, 2),
                                          "cached": eng.cached, **eng.flags},
                                  onnx={"path": str(art.path), "sha256": art.manifest.sha256,
                                        "parity": art.manifest.parity_status},
                                  warmup=warmup, iterations=iterations)
            store.append(rec)
            measured.append(key)
    return measured, failed, device
