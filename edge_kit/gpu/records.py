"""GPU results as bench records (schema edgekit.bench/1), from a trtexec log or from edgekit's own run.

A GPU record is a normal results-store line with backend "tensorrt", device "gpu:<GPU name>", and a
`provenance` block saying where the numbers came from: "imported" (a trtexec log: its sha256, path,
TensorRT version, GPU, command line) or "measured" (edgekit's TensorRT runner). Its key carries the
TensorRT version, so figures from two TensorRT releases on one GPU are two columns, not one overwriting
the other. `measurement.median_ms` is the end-to-end latency (H2D + GPU compute + D2H) when data
transfers were timed; GPU compute time is kept beside it in `measurement.extra`.
"""
from __future__ import annotations

import hashlib
import re
import sys
import time
from pathlib import Path
from typing import Optional

from edge_kit.bench.cell import Measurement
from edge_kit.bench.store import SCHEMA, BenchRecord, ResultStore
from edge_kit.errors import EdgekitError
from edge_kit.gpu.trtexec_log import TrtexecLogError, TrtexecRun, parse_trtexec_log

PRECISIONS = ("fp32", "fp16", "int8")


class AlreadyImported(EdgekitError):
    """The same log (by sha256) is already in the store under the same key: importing is idempotent."""

    def __init__(self, message: str, record: "BenchRecord"):
        super().__init__(message)
        self.record = record


def gpu_device(gpu: str) -> str:
    """'Tesla T4' -> 'gpu:Tesla_T4' (a record's device; the label keeps the GPU's own spelling)."""
    return "gpu:" + re.sub(r"[^A-Za-z0-9._-]+", "_", gpu.strip()).strip("_")


def record_key(device: str, model: str, precision: str, trt_version: str) -> str:
    return f"{device}|{model}|tensorrt|{precision}|t1|trt{trt_version}"


def precision_from_run(run: TrtexecRun) -> Optional[str]:
    """What the log itself says about precision; None when it cannot say (TensorRT 11 is strongly
    typed: the precision is the ONNX's, so the log prints 'Strongly Typed')."""
    line = (run.precision_line or "").upper()
    if "STRONGLY TYPED" in line or not line:
        onnx = run.flag("onnx") or ""
        m = re.search(r"\.(fp32|fp16|int8)\.onnx$", onnx)  # edgekit's prepared files: MODEL.trt.fp16.onnx
        return m.group(1) if m else None
    for other in ("FP8", "INT4", "BF16"):  # precisions the seed's tables have no column for
        if other in line:
            return other.lower()
    if "INT8" in line:
        return "int8"
    if "FP16" in line:
        return "fp16"
    if line.startswith("FP32"):
        return "fp32"
    return None


def measurement_from_run(run: TrtexecRun) -> Measurement:
    lat = run.metrics["latency"]
    extra = {
        "latency_metric": "trtexec Latency (H2D + GPU compute + D2H)" if run.data_transfers is not False
        else "trtexec Latency without data transfers (equals GPU compute)",
        "gpu_compute_ms": dict(run.metrics["gpu_compute"]),
        "throughput_qps": run.throughput_qps, "walltime_s": run.walltime_s,
        "percentiles": sorted(k for k in lat if k.startswith("p")),
    }
    for key in ("h2d", "d2h", "enqueue", "end_to_end_host"):
        if key in run.metrics:
            extra[f"{key}_ms"] = dict(run.metrics[key])
    return Measurement(count=run.queries, min_ms=lat["min"], median_ms=lat["median"], mean_ms=lat["mean"],
                       p90_ms=lat.get("p90"), p99_ms=lat.get("p99"), max_ms=lat["max"], extra=extra)


def import_trtexec_log(log_path: str | Path, model: str, gpu: Optional[str] = None,
                       precision: Optional[str] = None, results_dir: str | Path = "bench_results") -> BenchRecord:
    """Parse one trtexec log and append its record to the results store. Returns the record.

    Refuses (one-line EdgekitError) a log without a performance summary, a run at batch > 1, a GPU or
    precision it cannot tell, and a --precision that contradicts the log."""
    from edge_kit.zoo import get_model

    path = Path(log_path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise EdgekitError(f"cannot read trtexec log {path}: {err.strerror or err}") from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        run = parse_trtexec_log(text)
    except TrtexecLogError as err:
        raise TrtexecLogError(f"{path}: {err}") from None
    spec = get_model(model)
    if precision is not None and precision not in PRECISIONS:
        raise EdgekitError(f"--precision takes one of {', '.join(PRECISIONS)}; got {precision!r}")
    logged = precision_from_run(run)
    if precision and logged and precision != logged:
        raise EdgekitError(f"{path}: the log ran {logged} (Precision: {run.precision_line}, --onnx "
                           f"{run.flag('onnx')}) but --precision says {precision}")
    if logged and logged not in PRECISIONS:
        raise EdgekitError(f"{path}: the run allowed {logged} (Precision: {run.precision_line}); edgekit's GPU "
                           f"columns are {', '.join(PRECISIONS)} only")
    prec = precision or logged
    if prec is None:
        raise EdgekitError(f"{path}: the log does not say the precision (Precision: {run.precision_line}); "
                           f"pass --precision fp32|fp16|int8")
    gpu_name = (gpu or run.gpu or "").strip()
    if not gpu_name:
        raise EdgekitError(f"{path}: the log names no GPU (no 'Selected Device:' line); pass --gpu NAME")
    if gpu and run.gpu and gpu.strip() != run.gpu:
        print(f"edgekit: warning: --gpu {gpu!r} differs from the log's 'Selected Device: {run.gpu}'; "
              f"recording {gpu!r} and keeping the log's name in the provenance", file=sys.stderr)
    batches = {dims[0] for dims in run.inference_shapes.values() if dims}
    if batches and batches != {1}:
        raise EdgekitError(f"{path}: the run used batch {', '.join(map(str, sorted(batches)))} "
                           f"(Input inference shape); the GPU column is batch 1")
    version = run.version
    if version is None:
        raise EdgekitError(f"{path}: the log does not say its TensorRT version (no banner, no "
                           f"'TensorRT version:' line)")
    onnx = run.flag("onnx") or run.flag("loadEngine") or ""
    notes = []
    if onnx and spec.name.lower() not in Path(onnx).name.lower():
        notes.append(f"the log ran {onnx}, whose name does not contain {spec.name}")
        print(f"edgekit: warning: {notes[-1]}; imported as {spec.name} as asked", file=sys.stderr)
    device = gpu_device(gpu_name)
    sha = hashlib.sha256(data).hexdigest()
    provenance = {
        "source": "imported", "tool": "trtexec", "log_path": str(path.resolve()), "log_sha256": sha,
        "tensorrt_version": version, "trtexec_build_version": run.banner_version, "trtexec_build": run.build,
        "gpu": gpu_name, "log_gpu": run.gpu, "compute_capability": run.compute_capability,
        "application_clocks_ghz": {"compute": run.compute_clock_ghz, "memory": run.memory_clock_ghz},
        "command": run.command, "precision_line": run.precision_line, "tf32": run.tf32 if prec == "fp32" else None,
        "data_transfers": run.data_transfers, "cuda_graph": run.cuda_graph, "spin_wait": run.spin_wait,
        "inference_shapes": run.inference_shapes or None, "batch": min(batches) if batches else None,
        "warnings": run.warnings, "notes": notes,
        "imported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    measurement = measurement_from_run(run)
    record = BenchRecord(
        schema=SCHEMA, key=record_key(device, spec.name, prec, version), status="ok", reason="",
        model=spec.name, backend="tensorrt", precision=prec, threads=1, device=device,
        warmup=run.warmup_queries, repeats=run.queries, min_secs=None, simulated=False,
        measurement=measurement.as_dict(), flags={"imported": True},
        device_info={"name": device, "kind": "gpu", "gpu": gpu_name, "compute_capability": run.compute_capability,
                     "runtimes": {"tensorrt": version}},
        artifact=None, provenance=provenance, timestamp=provenance["imported_at"],
    )
    store = ResultStore(results_dir)
    for old in store.records(warn=False):
        if old.key == record.key and (old.provenance or {}).get("log_sha256") == sha:
            raise AlreadyImported(f"{path} (sha256 {sha[:12]}) is already imported as {record.key}; "
                                  f"nothing to do", old)
    store.append(record)
    return record


def measured_record(model: str, precision: str, samples: dict, gpu: dict, *, trt_version: str, engine: dict,
                    onnx: dict, warmup: int, iterations: int) -> BenchRecord:
    """A record from edgekit's own TensorRT run (edge_kit.gpu.trt_runtime): latency = H2D + GPU compute +
    D2H per query from CUDA events, statistics as trtexec computes them."""
    from edge_kit.gpu.trt_runtime import summarize

    lat = summarize(samples["latency"])
    device = gpu_device(gpu["gpu"])
    extra = {"latency_metric": "CUDA-event latency (H2D + GPU compute + D2H), queries serial on one stream",
             "gpu_compute_ms": summarize(samples["gpu_compute"]), "percentiles": ["p90", "p95", "p99"]}
    for key in ("h2d", "d2h", "host_wall"):
        if samples.get(key):
            extra[f"{key}_ms"] = summarize(samples[key])
    m = Measurement(count=lat["count"], min_ms=lat["min"], median_ms=lat["median"], mean_ms=lat["mean"],
                    p90_ms=lat["p90"], p99_ms=lat["p99"], max_ms=lat["max"], std_ms=lat["std"],
                    samples_ms=[round(x, 5) for x in samples["latency"]], extra=extra)
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    provenance = {"source": "measured", "tool": "edgekit tensorrt runner", "tensorrt_version": trt_version,
                  "gpu": gpu["gpu"], "compute_capability": gpu.get("compute_capability"),
                  "driver": gpu.get("driver"), "cuda_driver": gpu.get("cuda_driver"),
                  "cuda_runtime": gpu.get("cuda_runtime"),
                  "clocks_mhz": {k: gpu.get(k) for k in ("sm_clock_mhz", "mem_clock_mhz", "max_sm_clock_mhz",
                                                          "max_mem_clock_mhz")},
                  "tf32": False if precision == "fp32" else None, "data_transfers": True, "cuda_graph": False,
                  "engine": engine, "onnx": onnx}
    return BenchRecord(
        schema=SCHEMA, key=record_key(device, model, precision, trt_version), status="ok", reason="",
        model=model, backend="tensorrt", precision=precision, threads=1, device=device,
        warmup=warmup, repeats=iterations, min_secs=None, simulated=False,
        measurement=m.as_dict(), flags={}, device_info={"name": device, "kind": "gpu", **gpu,
                                                        "runtimes": {"tensorrt": trt_version}},
        artifact=None, provenance=provenance, timestamp=now,
    )


def failed_gpu_record(model: str, precision: str, gpu: dict, trt_version: str, reason: str) -> BenchRecord:
    device = gpu_device(gpu["gpu"])
    return BenchRecord(
        schema=SCHEMA, key=record_key(device, model, precision, trt_version), status="failed",
        reason=reason, model=model, backend="tensorrt", precision=precision, threads=1,
        device=device, simulated=False, measurement=None, flags={},
        device_info={"name": device, "kind": "gpu", **gpu, "runtimes": {"tensorrt": trt_version}},
        artifact=None, provenance={"source": "measured", "tensorrt_version": trt_version, "gpu": gpu["gpu"]},
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        nulls=BenchRecord.ALWAYS - {"warmup", "repeats", "min_secs"})  # nothing ran: no run parameters
