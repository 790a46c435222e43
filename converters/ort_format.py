"""ONNX -> ORT format (.ort), the file ONNX Runtime Mobile loads on Android, with onnxruntime's own
converter (onnxruntime.tools.convert_onnx_models_to_ort), offline.

Options, and why:
- optimization style "Fixed" at level "all": the graph optimizations are applied now and saved in the
  file (the converter's advice for the CPU execution provider; "Runtime" is for NNAPI/CoreML).
- target_platform "arm": leaves out the NCHWc transformer, an x86-only layout that would tie the file to
  x86 kernels; the file then runs on a phone's CPU and on this machine (where parity checks it). On x86
  it runs without that layout: MobileNetV3_small_ssld took 8.1 ms here (onnxruntime 1.23.2, min of 200
  runs, 1 thread, load average ~2) against 3.6 ms for the .onnx, which gets NCHWc when it loads, and
  3.7 ms for a .ort made for "amd64"; host times of the `ort` backend are this file's x86 times, not a
  phone's.
- the level is "all" whatever ORT_CONVERT_ONNX_MODELS_TO_ORT_OPTIMIZATION_LEVEL says.

The converter also writes `<model>.required_operators.config`, the operator list an ORT minimal build
needs for this model: its contents go into the manifest instead of a second file.

onnxruntime 1.23's writer does not lay the flatbuffer out reproducibly: two conversions of one ONNX file
give files of the same size with their tables in a different order, so a .ort's sha256 is that of
the file made (and verified) once, then taken from the cache.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# onnxruntime's tensor type names ("tensor(float)") as the numpy dtype names manifests use
_DTYPES = {"float": "float32", "float16": "float16", "double": "float64", "bfloat16": "bfloat16", "int8": "int8",
           "uint8": "uint8", "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32",
           "int64": "int64", "uint64": "uint64", "bool": "bool", "string": "str"}


def child_onnx_to_ort(onnx_file: str, out_file: str) -> dict:
    """Convert `onnx_file` to `out_file` (.ort). Returns the manifest fields it adds: the converter's
    options and the operators an ORT minimal build needs."""
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

    os.environ.pop("ORT_CONVERT_ONNX_MODELS_TO_ORT_OPTIMIZATION_LEVEL", None)
    out = Path(out_file)
    # It names its outputs after the input's stem and writes them beside each other: use a scratch folder.
    with tempfile.TemporaryDirectory(prefix="ort-", dir=out.parent) as tmp:
        src = Path(tmp) / "in" / "model.onnx"
        src.parent.mkdir()
        shutil.copyfile(onnx_file, src)  # not a symlink: the converter resolves it and takes the target's name
        convert_onnx_models_to_ort(src, output_dir=Path(tmp) / "out", optimization_styles=[OptimizationStyle.Fixed],
                                   target_platform="arm")
        made = Path(tmp) / "out" / "model.ort"
        if not made.is_file():
            raise RuntimeError("convert_onnx_models_to_ort produced no .ort file")
        config = (Path(tmp) / "out" / "model.required_operators.config").read_text()
        shutil.move(str(made), out)
    return {"ort_conversion": {"optimization_style": "Fixed", "optimization_level": "all", "target_platform": "arm"},
            "required_operators": _required_operators(config)}


def _required_operators(config: str) -> dict[str, list[str]]:
    """The config's "domain;opset;Op,Op" lines as {"domain opset": [ops]} (comments dropped)."""
    out = {}
    for line in config.splitlines():
        if line.strip() and not line.startswith("#"):
            domain, opset, ops = line.strip().split(";")
            out[f"{domain} {opset}"] = sorted(ops.split(","))
    return out


def ort_io_and_ops(path: Path) -> tuple[list[dict], list[dict], dict[str, int]]:
    """Inputs and outputs as the file declares them (an onnxruntime session on it) and its nodes by op
    type, read from the flatbuffer (ops outside the ONNX domain are prefixed with theirs)."""
    from collections import Counter

    import onnxruntime as ort
    from onnxruntime.tools import ort_format_model  # noqa: F401 (puts the flatbuffer bindings on sys.path)
    import ort_flatbuffers_py.fbs as fbs

    buf = bytearray(Path(path).read_bytes())
    if not fbs.InferenceSession.InferenceSession.InferenceSessionBufferHasIdentifier(buf, 0):
        raise ValueError(f"{path} is not an ORT format model")
    graph = fbs.InferenceSession.InferenceSession.GetRootAsInferenceSession(buf, 0).Model().Graph()
    ops = Counter()
    for i in range(graph.NodesLength()):
        node = graph.Nodes(i)
        domain = node.Domain().decode()
        ops[f"{domain}.{node.OpType().decode()}" if domain not in ("", "ai.onnx") else node.OpType().decode()] += 1

    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.load_model_format", "ORT")
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def describe(t):
        dtype = t.type.replace("tensor(", "").rstrip(")")
        return {"name": t.name, "shape": [d if isinstance(d, int) else -1 for d in t.shape],
                "dtype": _DTYPES.get(dtype, dtype)}

    inputs, outputs = [describe(t) for t in sess.get_inputs()], [describe(t) for t in sess.get_outputs()]
    return inputs, outputs, dict(sorted(ops.items()))
