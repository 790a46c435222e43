"""Read the on-device benchmark tools' own output into a Measurement (milliseconds).

The tools time themselves on the phone; we never re-time them (shell and adb overhead would swamp a
2 ms model). Formats are the tools' verbatim output (see shared/notes/toolchain-facts.md):

TFLite benchmark_model prints a stat line after the warmup and again after the timed loop, so the LAST
line that *starts* with `count=` (after an optional `INFO: ` log prefix) is the timed one (op-profiling tables print `Timings (microseconds):
count=...` lines, which do not start with `count=` and are therefore never taken).

Paddle-Lite benchmark_bin prints a `======= Perf Info =======` block whose values are padded with
trailing spaces, optionally followed by a `Memory Usage(unit: MB|kB):` block that repeats `init  =`.
Only the lines between the Perf Info header and the Memory Usage header are timings.
"""
from __future__ import annotations

import re
from typing import Optional

from edge_kit.bench.cell import Measurement
from edge_kit.errors import EdgekitError


class ToolOutputError(EdgekitError):
    """The tool ran but printed something we cannot read as a benchmark result."""


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _quote_head(text: str, lines: int = 3) -> str:
    head = [ln.strip() for ln in text.strip().splitlines()[:lines]]
    return " | ".join(head) if head else "<empty output>"


# ---------------------------------------------------------------- TFLite benchmark_model
# Recent benchmark_model builds log through TFLITE_LOG, which prefixes every line with "INFO: ".
_LOG = r"^\s*(?:INFO:\s*)?"
_TFL_STAT_FULL = re.compile(
    rf"{_LOG}count=(\d+)\s+first=({_NUM})\s+curr=({_NUM})\s+min=({_NUM})\s+max=({_NUM})"
    rf"\s+avg=({_NUM})\s+std=({_NUM})")
# Stat<T>::OutputToStream prints only count and curr when every sample is equal; "(all same)" is
# appended only when count > 1.
_TFL_STAT_SAME = re.compile(rf"{_LOG}count=(\d+)\s+curr=({_NUM})(\(all same\))?\s*$")
_TFL_TIMINGS = re.compile(
    rf"Inference timings in us:\s*Init:\s*({_NUM}),\s*First inference:\s*({_NUM}),"
    rf"\s*Warmup \(avg\):\s*({_NUM}),\s*Inference \(avg\):\s*({_NUM})")
_TFL_MEM_DELTA = re.compile(
    rf"Memory footprint delta from the start of the tool \(MB\):\s*init=({_NUM})\s+overall=({_NUM})")
_TFL_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring:\s*({_NUM})")


def _us(v: str) -> float:
    return float(v) / 1000.0


def parse_tflite_benchmark(text: str) -> Measurement:
    """benchmark_model stdout -> Measurement. Raises ToolOutputError when no timed stat line exists."""
    lines = text.splitlines()
    # Stat lines after the summary line belong to op profiling, not to the timed loop.
    end = len(lines)
    for i, ln in enumerate(lines):
        if _TFL_TIMINGS.search(ln):
            end = i
    stat = None
    for ln in lines[:end]:
        m = _TFL_STAT_FULL.match(ln) or _TFL_STAT_SAME.match(ln)
        if m:
            stat = m
    if stat is None:
        raise ToolOutputError(
            f"benchmark_model output has no 'count=... avg=...' line; it began: {_quote_head(text)}")
    extra: dict = {"tool": "benchmark_model"}
    if stat.re is _TFL_STAT_FULL:
        count, first, _curr, mn, mx, avg, std = stat.groups()
        meas = Measurement(count=int(count), min_ms=_us(mn), median_ms=None, mean_ms=_us(avg),
                           max_ms=_us(mx), std_ms=_us(std), first_ms=_us(first))
    else:
        count, curr, _ = stat.groups()
        v = _us(curr)
        meas = Measurement(count=int(count), min_ms=v, median_ms=None, mean_ms=v, max_ms=v, std_ms=0.0)
        extra["all_same"] = True
    t = _TFL_TIMINGS.search(text)
    if t:
        init, first_inf, warm, inf = t.groups()
        meas.init_ms = _us(init)
        meas.first_ms = _us(first_inf)
        extra["warmup_avg_ms"] = _us(warm)
        extra["inference_avg_ms"] = _us(inf)
    d = _TFL_MEM_DELTA.search(text)
    if d:
        # A delta of the tool's RSS, not a peak: kept apart so nobody reads it as peak memory.
        extra["memory_delta_mb"] = {"init": float(d.group(1)), "overall": float(d.group(2))}
    p = _TFL_PEAK.search(text)
    if p:
        meas.peak_rss_mb = float(p.group(1))
    meas.extra.update(extra)
    return meas


# ---------------------------------------------------------------- Paddle-Lite benchmark_bin
_PL_PERF = re.compile(r"=+\s*Perf Info\s*=+")
_PL_DEVICE = re.compile(r"=+\s*Device Info\s*=+")
_PL_MEM = re.compile(r"Memory Usage\(unit:\s*(MB|kB|KB)\)\s*:")
_PL_KV = re.compile(rf"^\s*(init|first|min|max|avg|peak)\s*=\s*({_NUM}|Not supported yet)\s*$")
_PL_SECTION = re.compile(r"^=+\s*[\w ]+?\s*=+\s*$")


def _kv_block(lines: list[str]) -> dict[str, Optional[float]]:
    out: dict[str, Optional[float]] = {}
    for ln in lines:
        m = _PL_KV.match(ln)
        if m:
            out[m.group(1)] = None if m.group(2) == "Not supported yet" else float(m.group(2))
    return out


def parse_paddlelite_benchmark(text: str) -> Measurement:
    """benchmark_bin stdout -> Measurement. Raises ToolOutputError when the Perf Info block is missing
    or lacks min/max/avg."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if _PL_PERF.search(ln)), None)
    if start is None:
        raise ToolOutputError(
            f"benchmark_bin output has no '======= Perf Info =======' block; it began: {_quote_head(text)}")
    perf_lines, mem_lines, mem_unit = [], [], None
    target = perf_lines
    for ln in lines[start + 1:]:
        mu = _PL_MEM.search(ln)
        if mu:
            mem_unit, target = mu.group(1), mem_lines
            continue
        if _PL_SECTION.match(ln.strip()):
            break
        target.append(ln)
    perf = _kv_block(perf_lines)
    missing = [k for k in ("min", "max", "avg") if perf.get(k) is None]
    if missing:
        raise ToolOutputError(
            f"benchmark_bin Perf Info block lacks {', '.join(missing)}; it read: {_quote_head(chr(10).join(perf_lines), 6)}")
    meas = Measurement(count=_repeats(text), min_ms=perf["min"], median_ms=None, mean_ms=perf["avg"],
                       max_ms=perf["max"], init_ms=perf.get("init"), first_ms=perf.get("first"))
    meas.extra["tool"] = "benchmark_bin"
    if mem_unit:
        mem = _kv_block(mem_lines)
        scale = 1.0 if mem_unit == "MB" else 1.0 / 1024.0
        mem = {k: (None if v is None else v * scale) for k, v in mem.items()}
        meas.extra["memory_mb"] = mem
        if mem.get("peak") is not None:
            meas.peak_rss_mb = mem["peak"]
    dev = _device_info(lines)
    if dev:
        meas.extra["device_info"] = dev
    return meas


def _repeats(text: str) -> int:
    # benchmark_bin reports min/max/avg over `repeats` runs; the Runtime Info block says how many.
    m = re.search(r"^\s*repeats:\s*(\d+)\s*$", text, re.M)
    return int(m.group(1)) if m else 0


def _device_info(lines: list[str]) -> dict:
    start = next((i for i, ln in enumerate(lines) if _PL_DEVICE.search(ln)), None)
    if start is None:
        return {}
    info = {}
    for ln in lines[start + 1:]:
        if _PL_SECTION.match(ln.strip()):
            break
        if ":" in ln:
            k, v = ln.split(":", 1)
            info[k.strip()] = v.strip()
    return info


def parse_tool_output(tool: str, text: str) -> Measurement:
    if tool == "benchmark_model":
        return parse_tflite_benchmark(text)
    if tool == "benchmark_bin":
        return parse_paddlelite_benchmark(text)
    raise ToolOutputError(f"no parser for tool {tool!r} (known: benchmark_bin, benchmark_model)")
