"""Parse the log of NVIDIA's `trtexec` (TensorRT 8.0 to 11.x) into numbers with their context.

The format is the one printed by NVIDIA/TensorRT samples/common/sampleReporting.cpp (`printEpilog`):

    === Performance summary ===
    Throughput: 873.17 qps
    Latency: min = 1.18591 ms, max = 1.36273 ms, mean = 1.20476 ms, median = 1.2041 ms, percentile(90%) = ...
    Enqueue Time / H2D Latency / GPU Compute Time / D2H Latency: the same fields
    Total Host Walltime: 3.00285 s
    Total GPU Compute Time: 2.99571 s

each line usually prefixed by trtexec's logger (`[08/09/2024-23:12:04] [I] `). Around it, the options
and device blocks say what ran: the banner `&&&& RUNNING TensorRT.trtexec [TensorRT v100300] [b..] # CMD`,
`TensorRT version: 10.3.0`, `Selected Device: NAME`, `Precision: FP32+FP16` (`Strongly Typed` in 11),
`Data transfers: Enabled`, `CUDA Graph: ...`, `Input inference shape: name=1x3x224x224`.
tests/data/trtexec/README.md lists what changed between versions.

Nothing here guesses: a field the log does not print stays None, and a log that has no summary, has
several, or says FAILED is refused with a one-line reason.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Optional

from edge_kit.errors import EdgekitError

METRICS = {  # line label -> key in TrtexecRun.metrics
    "Latency": "latency",                              # H2D + GPU compute + D2H of one query
    "End-to-End Host Latency": "end_to_end_host",      # 8.0-8.2 only
    "Enqueue Time": "enqueue",
    "H2D Latency": "h2d",
    "GPU Compute Time": "gpu_compute",
    "D2H Latency": "d2h",
}

_PREFIX = re.compile(r"^(?:\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\]\s*)?(?:\[[IWEVF]\]\s?)?")
_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"
_FIELD = re.compile(r"(min|max|mean|median)\s*=?\s*" + _NUM + r"\s*ms|percentile\(([\d.]+)%\)\s*=?\s*" + _NUM + r"\s*ms")
_BANNER = re.compile(r"^&&&& (RUNNING|PASSED|FAILED|WAIVED) TensorRT\.trtexec \[TensorRT v(\d+)\](?: \[b(\d+)\])?"
                     r"(?: # (.*))?$")


class TrtexecLogError(EdgekitError):
    """The file is not a usable trtexec performance log."""


@dataclass
class TrtexecRun:
    metrics: dict[str, dict] = field(default_factory=dict)   # key -> {min,max,mean,median,p90,p95,p99,...} in ms
    throughput_qps: Optional[float] = None
    walltime_s: Optional[float] = None
    total_gpu_compute_s: Optional[float] = None
    tensorrt_version: Optional[str] = None     # from "TensorRT version: X.Y.Z" (the library that ran)
    banner_version: Optional[str] = None       # from "[TensorRT vNNNN]" (the trtexec build)
    build: Optional[str] = None                # "[bNNN]" (10.x and later)
    command: Optional[str] = None              # trtexec's own echo of its command line
    status: Optional[str] = None               # PASSED / FAILED / None (log cut before the end)
    gpu: Optional[str] = None                  # "Selected Device: NAME"
    compute_capability: Optional[str] = None
    compute_clock_ghz: Optional[float] = None  # application clocks, not the clocks the GPU ran at
    memory_clock_ghz: Optional[float] = None
    precision_line: Optional[str] = None       # "FP32", "FP32+FP16", "Strongly Typed", ...
    data_transfers: Optional[bool] = None
    cuda_graph: Optional[bool] = None
    spin_wait: Optional[bool] = None
    inference_shapes: dict[str, list[int]] = field(default_factory=dict)
    queries: Optional[int] = None              # "Timing trace has N queries over T s"
    warmup_queries: Optional[int] = None       # "Warmup completed N queries over T ms"
    warnings: list[str] = field(default_factory=list)  # the [W] lines after the summary

    @property
    def args(self) -> list[str]:
        try:
            return shlex.split(self.command or "")
        except ValueError:
            return (self.command or "").split()

    def flag(self, name: str) -> Optional[str]:
        """Value of `--name=value` (or "" for a bare `--name`) in the echoed command line, else None."""
        for a in self.args:
            if a == f"--{name}":
                return ""
            if a.startswith(f"--{name}="):
                return a.split("=", 1)[1]
        return None

    @property
    def tf32(self) -> Optional[bool]:
        """TF32 was allowed for fp32 layers (trtexec's default) unless --noTF32 was given."""
        if self.command is None:
            return None
        return self.flag("noTF32") is None

    @property
    def version(self) -> Optional[str]:
        return self.tensorrt_version or self.banner_version


def decode_banner_version(number: str) -> str:
    """NV_TENSORRT_VERSION: 8.x is major*1000 + minor*100 + patch (8601); 10.x on is major*10000 +
    minor*100 + patch (100300, 110100)."""
    n = int(number)
    if n >= 100000:
        return f"{n // 10000}.{n // 100 % 100}.{n % 100}"
    return f"{n // 1000}.{n // 100 % 10}.{n % 100}"


def _metric_fields(text: str, label: str) -> dict:
    out: dict = {}
    for m in _FIELD.finditer(text):
        if m.group(1):
            out[m.group(1)] = float(m.group(2))
        else:
            pct = m.group(3).rstrip("0").rstrip(".") if "." in m.group(3) else m.group(3)
            out[f"p{pct}"] = float(m.group(4))
    missing = [k for k in ("min", "max", "mean", "median") if k not in out]
    if missing:
        raise TrtexecLogError(f"trtexec log: the {label!r} line has no {', '.join(missing)}: {text.strip()[:120]}")
    return out


def _enabled(value: str) -> Optional[bool]:
    v = value.strip().lower()
    return True if v == "enabled" else False if v == "disabled" else None


def parse_trtexec_log(text: str) -> TrtexecRun:
    run = TrtexecRun()
    summaries = 0
    in_summary = False
    for raw in text.splitlines():
        banner = _BANNER.match(raw.strip())
        if banner:
            state, number, build, cmd = banner.groups()
            run.banner_version = decode_banner_version(number)
            run.build = build or run.build
            if cmd and run.command is None:
                run.command = cmd.strip()
            if state in ("PASSED", "FAILED", "WAIVED"):
                run.status = state
            in_summary = False
            continue
        line = _PREFIX.sub("", raw.rstrip())
        if line.strip() == "=== Performance summary ===":
            summaries += 1
            in_summary = True
            continue
        if line.startswith("=== "):
            in_summary = False
        key, sep, value = line.partition(": ")
        if in_summary:
            if key in METRICS:
                run.metrics[METRICS[key]] = _metric_fields(value, key)
                continue
            if key == "Throughput":
                run.throughput_qps = float(value.split()[0])
            elif key == "Total Host Walltime":
                run.walltime_s = float(value.split()[0])
            elif key == "Total GPU Compute Time":
                run.total_gpu_compute_s = float(value.split()[0])
            elif "[W]" in raw and line.strip():
                run.warnings.append(line.strip())
            continue
        trace = re.match(r"(Timing trace|Warmup completed)(?: has)? (\d+) queries", line)
        if trace:
            setattr(run, "queries" if trace.group(1) == "Timing trace" else "warmup_queries", int(trace.group(2)))
            continue
        if not sep:
            continue
        if key == "TensorRT version":
            run.tensorrt_version = value.strip()
        elif key == "Selected Device":
            run.gpu = value.strip()
        elif key == "Compute Capability":
            run.compute_capability = value.strip()
        elif key in ("Application Compute Clock Rate", "Compute Clock Rate"):
            run.compute_clock_ghz = float(value.split()[0])
        elif key in ("Application Memory Clock Rate", "Memory Clock Rate"):
            run.memory_clock_ghz = float(value.split()[0])
        elif key == "Precision":
            run.precision_line = value.strip()
        elif key == "Data transfers":
            run.data_transfers = _enabled(value)
        elif key == "CUDA Graph":
            run.cuda_graph = _enabled(value)
        elif key == "Spin-wait":
            run.spin_wait = _enabled(value)
        elif key.startswith("Input inference shape") and key != "Input inference shapes":
            name, _, dims = value.strip().partition("=")
            try:
                run.inference_shapes[name] = [int(d) for d in dims.split("+")[0].split("x")]
            except ValueError:
                pass  # a shape trtexec printed that is not NxCxHxW: leave it out rather than guess
    if run.status == "FAILED":
        raise TrtexecLogError("trtexec log says FAILED: it has no measurement to import")
    if summaries == 0:
        raise TrtexecLogError("no '=== Performance summary ===' in the log (trtexec 8.0 or later prints one; "
                              "was the run cut short, or is this a --buildOnly log?)")
    if summaries > 1:
        raise TrtexecLogError(f"the log holds {summaries} performance summaries; import one trtexec run per file")
    for needed in ("latency", "gpu_compute"):
        if needed not in run.metrics:
            raise TrtexecLogError(f"the performance summary has no {needed.replace('_', ' ')} line")
    return run
