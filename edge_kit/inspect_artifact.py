"""What an artifact is: its manifest, whether the file still matches it, its ops, and whether it runs here."""
from __future__ import annotations

import json
from pathlib import Path

from edge_kit import formats, parity_text
from edge_kit.errors import ModelFileError
from edge_kit.manifest import Artifact, Manifest, manifest_path, sha256_file

SUFFIX_FORMAT = {sfx: f.name for f in formats.FORMATS for sfx in f.suffixes}


def op_histogram(path: Path, fmt: str) -> dict[str, int]:
    if fmt == "tflite":
        from converters.tflite import tflite_io_and_ops

        return tflite_io_and_ops(path)[2]
    if fmt == "onnx":
        from converters.onnx_export import onnx_op_histogram

        return onnx_op_histogram(path)
    if fmt == "paddlelite":
        from converters import paddle_lite
        from converters.isolate import run_isolated

        # Lite's reader aborts on a damaged file: read it in a child.
        return run_isolated(paddle_lite.child_nb_op_histogram, {"nb_path": str(path)},
                            model=path.name, stage="inspect", tool="paddlelite")
    if fmt == "paddle":
        from collections import Counter

        from converters.program_proto import framework_pb2

        desc = framework_pb2().ProgramDesc()
        desc.ParseFromString(path.read_bytes())
        return dict(sorted(Counter(op.type for b in desc.blocks for op in b.ops
                                   if op.type not in ("feed", "fetch")).items()))
    row = formats.fmt(fmt) if fmt in formats.FORMAT_NAMES else None
    if row is not None and row.from_onnx:  # a from-ONNX format's own reader (edge_kit.formats.FromOnnx)
        import importlib

        module, name = row.from_onnx.reader.split(":")
        return getattr(importlib.import_module(module), name)(path)[2]
    return {}


runs_here = formats.runs_here


def inspect(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{path} does not exist")
    fmt = SUFFIX_FORMAT.get(p.suffix)
    info: dict = {"file": str(p), "bytes": p.stat().st_size}
    manifest = None
    if manifest_path(p).is_file():
        manifest = Artifact.load(p).manifest
        fmt = manifest.format or fmt
        actual = sha256_file(p)
        info["sha256_matches_manifest"] = actual == manifest.sha256
        if not info["sha256_matches_manifest"]:
            info["warning"] = "the file changed since edgekit converted it: its parity report no longer applies"
    if fmt is None:
        raise ModelFileError(f"{path}: not an artifact edgekit knows ({', '.join(SUFFIX_FORMAT)})")
    info["manifest"] = manifest
    try:
        info["ops"] = op_histogram(p, fmt)
    except Exception as exc:  # a damaged file: say so rather than crash
        raise ModelFileError(f"{path}: cannot read it as {fmt}: {str(exc).splitlines()[0][:300]}") from None
    if fmt == "paddlelite":  # read from the file itself, not the manifest: is an "fp16" .nb really fp16?
        from converters.paddle_lite import nb_kernel_precisions

        info["kernel_precisions"] = nb_kernel_precisions(p)
    target = (manifest.target if manifest else None) or ("x86" if ".x86." in p.name else None)
    info["runs_here"] = runs_here(fmt, target)[1]
    info["format"] = fmt
    return info


def render(info: dict) -> str:
    lines = [f"{info['file']}  ({info['bytes'] / 1e6:.2f} MB)"]
    if info.get("manifest"):
        m = Manifest.of(info["manifest"])
        lines.append(f"  model {m.model} ({m.task}), {m.format} {m.target} "
                     f"{m.precision}, graph {m.graph or '-'}, status {m.status}")
        lines.append(parity_text.render(m, "checks"))
        if m.format == "tflite":
            from edge_kit.arm_check import summary

            lines.append(f"  {summary(m.parity_arm64)}")
        lines.append(f"  sha256 {'matches' if info.get('sha256_matches_manifest') else 'DOES NOT MATCH'} the manifest")
        if info.get("warning"):
            lines.append(f"  WARNING: {info['warning']}")
        for io, tensors in (("inputs", m.inputs), ("outputs", m.outputs)):
            for t in tensors or []:
                lines.append(f"  {io[:-1]} {t['name']}: {t.get('dtype')} {t.get('shape')} {t.get('layout', '')}".rstrip())
        if m.preprocess:
            lines.append(f"  preprocess: {json.dumps(m.preprocess)}")
        if m.postprocess:
            lines.append(f"  postprocess: {json.dumps(m.postprocess)[:400]}")
        lines.append(f"  made by: {', '.join(f'{k} {v}' for k, v in sorted((m.tools or {}).items()))}")
        lines.append(f"  weights: {(m.source or {}).get('weights', '-')}")
    else:
        lines.append("  no manifest beside it: not made by edgekit (or the manifest was removed)")
    ops = info.get("ops", {})
    lines.append(f"  ops ({sum(ops.values())}): " + ", ".join(f"{k} x{v}" for k, v in ops.items()))
    if info.get("kernel_precisions"):
        lines.append("  kernels by precision: " + ", ".join(f"{k} x{v}" for k, v in info["kernel_precisions"].items())
                     + " (weights are stored fp32; fp16 kernels convert them when the predictor loads)")
    lines.append(f"  runs here: {info['runs_here']}")
    return "\n".join(lines)
