"""The zoo's conversion record: models converted to every format and precision, with the parity verdict
each artifact's manifest holds (edge_kit.parity_text "cell" style). `edgekit parity` is its CLI and writes
bench_results/parity.md and parity.json.

Conversions come from the cache when they are there (seconds), otherwise they run (about 25 minutes
for the whole zoo on 2 cores).
"""
from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Callable, Optional

from edge_kit.manifest import atomic_write_text
from edge_kit.parity_text import render

COLUMNS = [("paddlelite", "x86", "fp32"), ("paddlelite", "arm", "fp32"), ("paddlelite", "arm", "fp16"),
           ("paddlelite", "opencl", "fp32"), ("onnx", "cpu", "fp32"), ("tflite", "cpu", "fp32"),
           ("tflite", "cpu", "fp16")]
RUNTIMES = ("paddlepaddle", "paddlelite", "paddle2onnx", "onnx2tf", "tensorflow", "ai-edge-litert", "onnxruntime")


def model_cells(arts) -> tuple[dict, list[str]]:
    """A model's artifacts -> ({"format/target/precision": cell}, failures as "model column: reason")."""
    cells, failed = {}, []
    for a in arts:
        key = (a.format, a.target, a.precision)
        if key not in COLUMNS:
            continue
        m = a.manifest
        cells["/".join(key)] = {"status": m.status, "summary": render(m, "cell"), "sha256": m.sha256,
                                "weights": (m.source or {}).get("weights")}
        if m.status != "ok":
            failed.append(f"{a.model} {'/'.join(key)}: {(m.parity or {}).get('reason')}")
    return cells, failed


def build(models: list[str], log: Callable[[str], None] = lambda line: None) -> tuple[dict, list[str]]:
    """Convert (or take from the cache) each model and collect its row: ({model: cells}, failures)."""
    from edge_kit.convert import convert

    rows, failed = {}, []
    for name in models:
        arts = convert(name, to=("paddlelite", "onnx", "tflite"), precisions=("fp32", "fp16"),
                       lite_targets=("arm", "opencl"), log=lambda msg: None)
        rows[name], bad = model_cells(arts)
        failed += bad
        log(f"{name}: " + "; ".join(f"{k} {v['summary']}" for k, v in rows[name].items()))
    return rows, failed


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in RUNTIMES}


def markdown(rows: dict, tool_versions: dict) -> str:
    head = ["Model"] + ["/".join(c) for c in COLUMNS]
    lines = ["# Conversion parity of the built-in zoo", "",
             "Written by `edgekit parity` from the artifacts' manifests. Every artifact was run on this "
             "machine against the Paddle reference on the same images, except arm/opencl `.nb` files, which "
             "cannot run on x86 and are trusted as far as their x86 twin (same program, same passes) passed. "
             "Weights: untrained (seed 0), see README.", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}; "
             + ", ".join(f"{k} {v}" for k, v in tool_versions.items()), "",
             "| " + " | ".join(head) + " |", "|" + " :--- |" * len(head)]
    for name, cells in rows.items():
        lines.append("| " + " | ".join([name] + [cells.get("/".join(c), {}).get("summary", "-") for c in COLUMNS]) + " |")
    return "\n".join(lines) + "\n"


def write(rows: dict, failed: list[str], out_dir: str | Path, tool_versions: Optional[dict] = None) -> list[Path]:
    """parity.md and parity.json in out_dir."""
    tool_versions = tool_versions if tool_versions is not None else versions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "parity.md", out / "parity.json"
    atomic_write_text(md, markdown(rows, tool_versions))
    atomic_write_text(js, json.dumps({"versions": tool_versions, "models": rows, "failed": failed}, indent=2) + "\n")
    return [md, js]
