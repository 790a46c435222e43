"""Build, cache and time a TensorRT engine from a prepared ONNX (TensorRT 10 and 11 Python APIs).

Needs the `tensorrt` Python package, cuda-bindings (`cuda.bindings.runtime`; `from cuda import cudart`
on cuda-python 12) and an NVIDIA GPU: `pip install 'edgekit[gpu]'` on such a machine. None of it is
imported until a GPU run is asked for; `gpu_status()` says in one line what is missing.

THIS CODE HAS NOT RUN ON HARDWARE: the project's machines have no GPU and TensorRT cannot be installed
there (PyPI's tensorrt packages are stubs that download from NVIDIA's index). Its pure parts (statistics,
cache keys, records) are tested; the engine path is tested only where TensorRT and a GPU are present.

Timing mirrors trtexec's definitions so the two can be compared (sampleReporting.cpp):
  per query, CUDA events around  H2D copy | execute_async_v3 | D2H copy  on one stream, queries serial;
  latency = H2D + GPU compute + D2H (trtexec's "Latency"), gpu_compute = the enqueue's events;
  median and percentiles with trtexec's own formulas (findMedian, findPercentile in float32).
Precision: fp32 builds with TF32 cleared (trtexec --noTF32); fp16 builds the fp16 ONNX strongly typed
(TensorRT 11 always is; on 10 the STRONGLY_TYPED network flag). `weak_fp16=True` on TensorRT 10 builds
the fp32 ONNX with BuilderFlag.FP16 instead (that flag no longer exists in 11).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from edge_kit.errors import EdgekitError


class GpuUnavailable(EdgekitError):
    """TensorRT, cuda-bindings or a GPU is missing: the GPU path is skipped, never faked."""


def _cudart():
    try:
        from cuda.bindings import runtime as cudart  # cuda-bindings 12.6+ and 13
    except ImportError:
        from cuda import cudart  # cuda-python 12.x before the split (removed in 13)
    return cudart


def gpu_status() -> tuple[bool, str]:
    """(True, "TensorRT X on GPU NAME") or (False, why not), without raising."""
    try:
        import tensorrt as trt
    except Exception as err:  # ImportError, or OSError when libnvinfer is missing
        return False, (f"tensorrt is not importable ({type(err).__name__}: {err}); install it on a machine with an "
                       f"NVIDIA GPU: pip install 'edgekit[gpu]'")
    try:
        cudart = _cudart()
    except Exception as err:
        return False, f"cuda-bindings is not importable ({err}); pip install cuda-bindings (or cuda-python 12)"
    try:
        err, count = cudart.cudaGetDeviceCount()
    except Exception as exc:  # the driver library itself may be missing
        return False, f"the CUDA runtime cannot start ({exc})"
    if int(err) != 0 or not count:
        return False, f"no CUDA GPU visible (cudaGetDeviceCount: {err}, {count} device(s))"
    return True, f"TensorRT {trt.__version__} on {describe_gpu(0)['gpu']}"


def _check(result, what: str):
    """cuda-bindings return (err, value...) tuples; raise on a non-zero cudaError_t."""
    err, *rest = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise EdgekitError(f"CUDA {what} failed: {err}")
    return rest[0] if len(rest) == 1 else rest


def describe_gpu(device: int = 0) -> dict:
    """GPU model, compute capability, driver / runtime versions and clocks (application maxima from the
    CUDA attributes; the clocks it ran at from NVML when nvidia-ml-py is installed)."""
    cudart = _cudart()
    props = _check(cudart.cudaGetDeviceProperties(device), "cudaGetDeviceProperties")
    name = props.name.decode(errors="replace") if isinstance(props.name, bytes) else str(props.name)
    attr = cudart.cudaDeviceAttr
    info = {
        "gpu": name.strip("\x00 "), "compute_capability": f"{props.major}.{props.minor}",
        "sms": props.multiProcessorCount, "memory_mib": props.totalGlobalMem >> 20,
        "cuda_driver": _check(cudart.cudaDriverGetVersion(), "cudaDriverGetVersion"),
        "cuda_runtime": _check(cudart.cudaRuntimeGetVersion(), "cudaRuntimeGetVersion"),
        "max_sm_clock_mhz": _check(cudart.cudaDeviceGetAttribute(attr.cudaDevAttrClockRate, device), "clock") / 1000,
        "max_mem_clock_mhz": _check(cudart.cudaDeviceGetAttribute(attr.cudaDevAttrMemoryClockRate, device),
                                    "clock") / 1000,
    }
    info.update(_nvml(device))
    return info


def _nvml(device: int) -> dict:
    try:
        import pynvml
    except ImportError:
        return {"driver": None, "clocks_note": "nvidia-ml-py not installed: current clocks not read"}
    try:
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(device)
        drv = pynvml.nvmlSystemGetDriverVersion()
        return {"driver": drv.decode() if isinstance(drv, bytes) else drv,
                "sm_clock_mhz": pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM),
                "mem_clock_mhz": pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_MEM),
                "temperature_c": pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)}
    except Exception as err:
        return {"driver": None, "clocks_note": f"NVML: {err}"}


# --- statistics, exactly as trtexec computes them -------------------------------------------------

def trtexec_median(sorted_ms: list[float]) -> float:
    n = len(sorted_ms)
    m = n // 2
    return sorted_ms[m] if n % 2 else (sorted_ms[m - 1] + sorted_ms[m]) / 2


def trtexec_percentile(sorted_ms: list[float], percentile: float) -> float:
    """findPercentile: exclude = int((1 - p/100) * n) in float32; value = sorted[max(n - 1 - exclude, 0)]."""
    n = len(sorted_ms)
    exclude = int((np.float32(1) - np.float32(percentile) / np.float32(100)) * np.float32(n))
    return sorted_ms[max(n - 1 - exclude, 0)]


def summarize(samples_ms: list[float], percentiles=(90, 95, 99)) -> dict:
    if not samples_ms:
        raise EdgekitError("no timed queries")
    s = sorted(float(x) for x in samples_ms)
    out = {"count": len(s), "min": s[0], "max": s[-1], "mean": float(np.mean(s)), "median": trtexec_median(s),
           "std": float(np.std(s))}
    for p in percentiles:
        out[f"p{p:g}"] = trtexec_percentile(s, p)
    return out


# --- engine cache -------------------------------------------------------------------------------

def engine_cache_key(onnx_sha256: str, precision: str, trt_version: str, gpu: str, compute_capability: str,
                     weak_fp16: bool = False) -> str:
    """An engine is only valid for one TensorRT version and one GPU model: all of them key the cache."""
    blob = json.dumps({"onnx": onnx_sha256, "precision": precision, "trt": trt_version, "gpu": gpu,
                       "cc": compute_capability, "weak_fp16": weak_fp16, "tf32": False}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cache_dir() -> Path:
    root = os.environ.get("EDGEKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "edgekit")
    return Path(root) / "tensorrt"


@dataclass
class EngineBuild:
    path: Path
    seconds: float
    cached: bool
    trt_version: str
    flags: dict = field(default_factory=dict)


def build_engine(onnx_path: Path, precision: str, *, onnx_sha256: str, gpu: dict, weak_fp16: bool = False,
                 workspace_mib: int = 2048) -> EngineBuild:
    import tensorrt as trt

    major = int(trt.__version__.split(".")[0])
    if weak_fp16 and not hasattr(trt.BuilderFlag, "FP16"):
        raise EdgekitError(f"TensorRT {trt.__version__} has no BuilderFlag.FP16 (removed in 11): fp16 comes from "
                           f"the fp16 ONNX, built strongly typed")
    key = engine_cache_key(onnx_sha256, precision, trt.__version__, gpu["gpu"], gpu["compute_capability"], weak_fp16)
    path = cache_dir() / key / "model.engine"
    flags = {"tf32": False, "strongly_typed": precision == "fp16" and not weak_fp16,
             "builder_fp16": bool(weak_fp16), "workspace_mib": workspace_mib}
    if path.exists():
        return EngineBuild(path, 0.0, True, trt.__version__, flags)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    net_flags = 0
    if flags["strongly_typed"] and major < 11:  # 11: always strongly typed (the flag is a deprecated no-op)
        net_flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(net_flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EdgekitError(f"TensorRT's ONNX parser refused {onnx_path}: {errors or 'no error reported'}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    if hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)  # fp32 figures are fp32, not TF32 (trtexec --noTF32)
    if weak_fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    t0 = time.perf_counter()
    plan = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - t0
    if plan is None:
        raise EdgekitError(f"TensorRT could not build an engine from {onnx_path} (see its warnings above)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(memoryview(plan))
    tmp.replace(path)
    return EngineBuild(path, seconds, False, trt.__version__, flags)


# --- timing ------------------------------------------------------------------------------------

_NP = {"FLOAT": np.float32, "HALF": np.float16, "INT32": np.int32, "INT64": np.int64, "INT8": np.int8,
       "BOOL": np.bool_, "UINT8": np.uint8}


def time_engine(engine_path: Path, inputs: dict[str, np.ndarray], *, warmup: int = 50, iterations: int = 500) -> dict:
    """Run the engine `warmup` + `iterations` times; returns per-query samples (ms) for latency,
    gpu_compute, h2d, d2h (CUDA events) and host wall time."""
    import tensorrt as trt

    cudart = _cudart()
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
    if engine is None:
        raise EdgekitError(f"TensorRT could not load {engine_path} (built by another TensorRT version or GPU?)")
    context = engine.create_execution_context()
    stream = _check(cudart.cudaStreamCreate(), "cudaStreamCreate")
    H2D, D2H = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
    allocs, host_bufs, ins, outs = [], [], [], []
    try:
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            shape = tuple(engine.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise EdgekitError(f"engine tensor {name} has a dynamic shape {shape}; edgekit builds static engines")
            dtype = _NP[str(engine.get_tensor_dtype(name)).split(".")[-1]]
            nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
            dev = _check(cudart.cudaMalloc(nbytes), "cudaMalloc")
            host_ptr = _check(cudart.cudaMallocHost(nbytes), "cudaMallocHost")  # pinned, as trtexec uses
            allocs.append(dev)
            host_bufs.append(host_ptr)
            host = np.ctypeslib.as_array((np.ctypeslib.ctypes.c_byte * nbytes).from_address(int(host_ptr)))
            host = host.view(dtype).reshape(shape)
            context.set_tensor_address(name, int(dev))
            if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                if name not in inputs:
                    raise EdgekitError(f"no input data for engine input {name!r}")
                host[...] = inputs[name].astype(dtype).reshape(shape)
                ins.append((dev, host_ptr, nbytes))
            else:
                outs.append((dev, host_ptr, nbytes))
        events = [_check(cudart.cudaEventCreate(), "cudaEventCreate") for _ in range(4)]
        samples = {"latency": [], "gpu_compute": [], "h2d": [], "d2h": [], "host_wall": []}
        for it in range(warmup + iterations):
            t0 = time.perf_counter()
            _check(cudart.cudaEventRecord(events[0], stream), "cudaEventRecord")
            for dev, hp, n in ins:
                _check(cudart.cudaMemcpyAsync(dev, hp, n, H2D, stream), "H2D copy")
            _check(cudart.cudaEventRecord(events[1], stream), "cudaEventRecord")
            if not context.execute_async_v3(stream_handle=int(stream)):
                raise EdgekitError("TensorRT execute_async_v3 failed")
            _check(cudart.cudaEventRecord(events[2], stream), "cudaEventRecord")
            for dev, hp, n in outs:
                _check(cudart.cudaMemcpyAsync(hp, dev, n, D2H, stream), "D2H copy")
            _check(cudart.cudaEventRecord(events[3], stream), "cudaEventRecord")
            _check(cudart.cudaEventSynchronize(events[3]), "cudaEventSynchronize")
            wall = (time.perf_counter() - t0) * 1e3
            if it < warmup:
                continue
            ms = [_check(cudart.cudaEventElapsedTime(events[a], events[b]), "cudaEventElapsedTime")
                  for a, b in ((0, 3), (1, 2), (0, 1), (2, 3))]
            for key, v in zip(("latency", "gpu_compute", "h2d", "d2h"), ms):
                samples[key].append(float(v))
            samples["host_wall"].append(wall)
        for ev in events:
            cudart.cudaEventDestroy(ev)
        return samples
    finally:
        for dev in allocs:
            cudart.cudaFree(dev)
        for hp in host_bufs:
            cudart.cudaFreeHost(hp)
        cudart.cudaStreamDestroy(stream)


def tensorrt_version() -> Optional[str]:
    try:
        import tensorrt as trt
    except Exception:
        return None
    return trt.__version__
