"""ONNX prepared for TensorRT's ONNX parser: static shapes, ops the parser accepts, an fp16 variant.

Input: edgekit's verified ONNX of a model (the *raw* graph: logits / YOLO heads / segmentation logits,
no NMS, no argmax: post-processing stays on the host, so TensorRT never sees NMS). Output, per precision:

  MODEL.trt.fp32.onnx   the same graph, audited, int64 outputs cast to int32
  MODEL.trt.fp16.onnx   float weights and activations in fp16, inputs and outputs kept fp32 (Casts at the
                        edges). TensorRT 11 networks are strongly typed: the precision is the ONNX's, so
                        this file *is* the fp16 engine's definition (on 10.x: `--stronglyTyped`).

each with a `.manifest.json` (format onnx, target tensorrt) holding the audit and a parity report from
onnxruntime against the source ONNX on edgekit's images. onnxruntime's CPU provider computes many fp16
nodes in fp32 between fp16 tensors, so fp16 parity here checks the graph rewrite (weights, casts, types),
not TensorRT's fp16 kernels: only a GPU run does that.

The audit uses onnx-tensorrt's operator matrix (edge_kit/data/onnx_tensorrt_ops.json: the parser's own
docs/operators.md for TensorRT 10.1) plus the restrictions that bite vision models: Resize modes and
coordinate transforms, TopK's K < 3840, non-default op domains (plugins), dynamic dimensions.
"""
from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Optional

import numpy as np

from edge_kit.errors import EdgekitError, ParityError, UnsupportedOpError
from edge_kit.manifest import SCHEMA, Artifact, Manifest, sha256_file

PRECISIONS = ("fp32", "fp16")
RESIZE_MODES = {"nearest", "linear"}
RESIZE_TRANSFORMS = {"half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners"}
RESIZE_NEAREST = {"floor", "ceil", "round_prefer_floor", "round_prefer_ceil"}
TOPK_MAX = 3840
NMS_OPS = {"NonMaxSuppression", "multiclass_nms3", "MultiClassNMS", "BatchedNMS_TRT", "EfficientNMS_TRT"}
FP32_COSINE = 0.99999       # the prepared fp32 graph is the source graph: anything less is a rewrite bug
FP16_COSINE = 0.999         # tensor-level floor for fp16 outputs when no task metric applies


@dataclass
class Finding:
    severity: str   # "error" (TensorRT's parser would refuse it), "fixed" (rewritten here), "note"
    op: str
    node: str
    message: str


@lru_cache(maxsize=1)
def parser_ops() -> dict:
    return json.loads(resources.files("edge_kit").joinpath("data/onnx_tensorrt_ops.json").read_text())


def _attr(node, name, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            v = helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return default


def static_shape_errors(model) -> list[str]:
    """Every graph input dimension must be a positive integer: a TensorRT engine built here is for one
    shape, and a symbolic batch would need an optimization profile edgekit does not guess."""
    inits = {t.name for t in model.graph.initializer}
    errors = []
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        dims = vi.type.tensor_type.shape.dim
        bad = [d.dim_param or "?" for d in dims if not (d.HasField("dim_value") and d.dim_value > 0)]
        if bad or not dims:
            shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
            errors.append(f"input {vi.name!r} has dynamic shape {shape}")
    return errors


def audit(model) -> list[Finding]:
    """What TensorRT's ONNX parser would refuse (errors) or where it needs care (notes)."""
    from onnx import TensorProto, numpy_helper

    ops = parser_ops()["operators"]
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant" and n.attribute:
            try:
                consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
            except Exception:  # a Constant with value_float(s)/ints: not needed for the checks below
                pass
    found: list[Finding] = []
    for err in static_shape_errors(model):
        found.append(Finding("error", "(graph input)", "", err))
    for n in model.graph.node:
        where = n.name or (n.output[0] if n.output else "?")
        if n.domain not in ("", "ai.onnx"):
            found.append(Finding("error", n.op_type, where, f"custom op {n.domain}::{n.op_type} needs a TensorRT "
                                                             "plugin edgekit does not ship"))
            continue
        if n.op_type in NMS_OPS:
            found.append(Finding("error", n.op_type, where, "NMS inside the graph: edgekit keeps NMS outside the "
                                 "engine (export the raw graph; edge_kit.postprocess does decoding + NMS)"))
            continue
        info = ops.get(n.op_type)
        if info is None or not info["supported"]:
            why = "not in" if info is None else "marked unsupported in"
            found.append(Finding("error", n.op_type, where, f"{n.op_type} is {why} onnx-tensorrt's operator matrix"))
            continue
        if n.op_type == "Resize":
            mode = _attr(n, "mode", "nearest")
            ctm = _attr(n, "coordinate_transformation_mode", "half_pixel")
            if mode not in RESIZE_MODES:
                found.append(Finding("error", "Resize", where, f"mode {mode!r} (TensorRT's parser takes nearest, linear)"))
            if ctm not in RESIZE_TRANSFORMS:
                found.append(Finding("error", "Resize", where, f"coordinate_transformation_mode {ctm!r} is not "
                                     f"supported ({', '.join(sorted(RESIZE_TRANSFORMS))})"))
            if mode == "nearest" and _attr(n, "nearest_mode", "round_prefer_floor") not in RESIZE_NEAREST:
                found.append(Finding("error", "Resize", where, f"nearest_mode {_attr(n, 'nearest_mode')!r}"))
            if _attr(n, "antialias", 0):
                found.append(Finding("error", "Resize", where, "antialias=1 is not supported"))
            if _attr(n, "keep_aspect_ratio_policy", "stretch") != "stretch":
                found.append(Finding("error", "Resize", where, "keep_aspect_ratio_policy must be 'stretch'"))
            sizes = [i for i in n.input[1:] if i]
            if any(i not in consts for i in sizes):
                found.append(Finding("note", "Resize", where, "scales/sizes are computed in the graph, not constants"))
        elif n.op_type == "TopK":
            k = consts.get(n.input[1]) if len(n.input) > 1 else None
            if k is None:
                found.append(Finding("note", "TopK", where, "K is not a constant; TensorRT needs K < 3840"))
            elif int(np.asarray(k).ravel()[0]) >= TOPK_MAX:
                found.append(Finding("error", "TopK", where, f"K = {int(np.asarray(k).ravel()[0])} >= {TOPK_MAX}"))
            if _attr(n, "sorted", 1) != 1:
                found.append(Finding("error", "TopK", where, "sorted must be 1"))
    for t in model.graph.initializer:
        if t.data_type == TensorProto.DOUBLE:
            found.append(Finding("note", "(initializer)", t.name, "float64 weights: TensorRT casts them to fp32"))
    return found


def cast_int64_outputs(model) -> list[Finding]:
    """int64 graph outputs (argmax label maps, indices) become int32: TensorRT before 10.0 has no int64
    tensors, and an int32 index loses nothing for images. In place; returns what was changed."""
    from onnx import TensorProto, helper

    changed = []
    for out in model.graph.output:
        if out.type.tensor_type.elem_type != TensorProto.INT64:
            continue
        inner = out.name + "_int64"
        for n in model.graph.node:
            n.output[:] = [inner if o == out.name else o for o in n.output]
            n.input[:] = [inner if i == out.name else i for i in n.input]
        model.graph.node.append(helper.make_node("Cast", [inner], [out.name], to=TensorProto.INT32,
                                                 name=f"edgekit_int32_{out.name}"))
        out.type.tensor_type.elem_type = TensorProto.INT32
        changed.append(Finding("fixed", "Cast", out.name, "int64 output cast to int32"))
    return changed


def to_fp16(model):
    """fp16 weights and activations with fp32 inputs/outputs (onnxconverter-common's float16 rewrite,
    which keeps ops whose fp16 forms are unsafe or absent, e.g. Resize's scales, in fp32 behind Casts)."""
    try:
        from onnxconverter_common import float16
    except ImportError as err:
        raise EdgekitError(f"the fp16 ONNX needs onnxconverter-common (pip install onnxconverter-common): {err}") \
            from err
    import onnx

    pristine = model.SerializeToString()  # the converter edits its argument in place
    try:
        return float16.convert_float_to_float16(model, keep_io_types=True)
    except ValueError as err:
        # onnxconverter-common 1.16's last pass (remove_unnecessary_cast_node) raises on some graphs
        # (HRNet_W18: "The downstream node of the second cast node should be graph output"). The pass only
        # drops fp16->fp32 Cast pairs around ops it keeps in fp32; without it the graph is still correct,
        # with a few redundant Casts. Anything else is a real failure.
        if "cast node" not in str(err):
            raise EdgekitError(f"fp16 rewrite failed in onnxconverter-common: {err}") from err
        original = float16.remove_unnecessary_cast_node
        float16.remove_unnecessary_cast_node = lambda graph: None
        try:
            out = float16.convert_float_to_float16(onnx.load_from_string(pristine), keep_io_types=True)
        finally:
            float16.remove_unnecessary_cast_node = original
        out.doc_string = (out.doc_string + " " if out.doc_string else "") + \
            f"edgekit: redundant Cast pairs kept (onnxconverter-common's clean-up pass failed: {err})"
        return out


def _run(model_bytes: bytes, inputs: list[np.ndarray]) -> list[list[np.ndarray]]:
    from edge_kit.runtimes import open_runtime, per_image

    return per_image(open_runtime("onnxruntime", model_bytes), inputs)


def parity(task: Optional[str], precision: str, ref, got, input_hw=None) -> dict:
    """A zoo task gets edgekit's own gates (parity.compare: fp32 tight, fp16 by the task metric, as for
    every other artifact); any other graph a cosine floor per output tensor (agreement for integers)."""
    from edge_kit.parity import _check, _result, compare, tensor_metrics

    if task in ("classification", "detection", "semantic_segmentation"):
        return compare(task, precision, ref, got, graph="raw", input_hw=input_hw)
    checks, metrics = [], {}
    floor = FP32_COSINE if precision == "fp32" else FP16_COSINE
    for j in range(len(ref[0]) if ref else 0):
        rs, gs = [img[j] for img in ref], [img[j] for img in got]
        if any(r.shape != g.shape for r, g in zip(rs, gs)):
            return _result([], metrics, f"output {j} shape {list(gs[0].shape)} differs from the source's "
                                        f"{list(rs[0].shape)}")
        r, g = np.stack(rs), np.stack(gs)
        if np.issubdtype(r.dtype, np.integer):  # indices/labels over all images: agreement, not cosine
            agree = float(np.mean(r.astype(np.int64) == g.astype(np.int64)))
            metrics[f"out{j}"] = {"agreement": agree}
            checks.append(_check(f"out{j}.agreement", agree, 1.0 if precision == "fp32" else 0.75, True))
            continue
        for i in range(len(rs)):  # cosine per image: one bad image is not averaged away
            m = tensor_metrics(rs[i], gs[i])
            metrics[f"image{i}.out{j}"] = m
            checks.append(_check(f"image{i}.out{j}.cosine", m["cosine"], floor, True))
    return _result(checks, metrics)


def prepare(source: Artifact | Path, out_dir: Path, *, model: Optional[str] = None, task: Optional[str] = None,
            inputs: Optional[list[np.ndarray]] = None, precisions=PRECISIONS) -> list[Artifact]:
    """Write MODEL.trt.<precision>.onnx (+ manifests) into out_dir; raises UnsupportedOpError for a graph
    TensorRT's parser would refuse, ParityError (after writing the manifest as failed) for wrong numbers."""
    import onnx

    src_path = Path(source.path if isinstance(source, Artifact) else source)
    src_manifest = source.manifest if isinstance(source, Artifact) else Manifest()
    name = model or src_manifest.model or src_path.stem
    task = task or src_manifest.task
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        raise EdgekitError(f"TensorRT ONNX precision {bad[0]!r}; choose from {', '.join(PRECISIONS)} "
                           f"(int8 needs a calibrated or Q/DQ model, which edgekit does not make)")
    try:
        base = onnx.load(str(src_path))
    except Exception as err:
        raise EdgekitError(f"cannot read ONNX {src_path}: {err}") from err
    findings = audit(base)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UnsupportedOpError(f"{name}: not ready for TensorRT: {errors[0].op} {errors[0].node}: "
                                 f"{errors[0].message}{more}")
    findings += cast_int64_outputs(base)
    onnx.checker.check_model(base)
    if inputs is None:
        inputs = [_random_input(vi) for vi in _real_inputs(base)]
    ref = _run(src_path.read_bytes(), inputs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hw = tuple(inputs[0].shape[2:4]) if inputs[0].ndim == 4 else None
    artifacts, failed = [], []
    for prec in precisions:
        t0 = time.time()
        clamped: list[str] = []
        if prec == "fp32":
            graph = base
        else:
            # onnxconverter-common warns once per weight it clamps into fp16's range (|x| < 1e-7 -> 1e-7,
            # |x| > 65504 -> 65504); count them into the manifest instead of flooding stderr
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    graph = to_fp16(onnx.load_from_string(base.SerializeToString()))
                except EdgekitError:
                    raise
                except Exception as err:  # the converter's own bugs become one line naming the model
                    raise EdgekitError(f"{name}: fp16 rewrite failed in onnxconverter-common: {err}") from err
            clamped = [str(w.message) for w in caught if "truncated" in str(w.message)]
        prec_findings = list(findings)
        if "redundant Cast pairs kept" in graph.doc_string:
            prec_findings.append(Finding("note", "Cast", "(fp16 graph)", graph.doc_string.split("edgekit: ", 1)[1]))
        onnx.checker.check_model(graph)
        data = graph.SerializeToString()
        report = parity(task, prec, ref, _run(data, inputs), hw)
        path = out_dir / f"{name}.trt.{prec}.onnx"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        manifest = Manifest(
            schema=SCHEMA, model=name, task=task, format="onnx", target="tensorrt",
            precision=prec, file=path.name, bytes=path.stat().st_size, sha256=sha256_file(path),
            inputs=_io(graph.graph.input, graph), outputs=_io(graph.graph.output, graph),
            source={"kind": "onnx", "path": str(src_path), "sha256": sha256_file(src_path),
                    "parity": src_manifest.parity_status},
            preprocess=src_manifest.preprocess, postprocess=src_manifest.postprocess,
            tools=_tools(), seconds=round(time.time() - t0, 2),
            parity={**report, "against": "the source ONNX on onnxruntime (CPU)", "images": len(ref)},
            status="ok" if report.get("status") == "passed" else "failed", runs_here=False,
            note="runs on TensorRT (GPU); parity was checked with onnxruntime on this machine",
            nulls=frozenset({"task", "preprocess", "postprocess"}),
            extra={"opset": max((o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")), default=None),
                   "tensorrt": {"audit": [asdict(f) for f in prec_findings], "parser_ops": parser_ops()["source"],
                                "strongly_typed": prec == "fp16",
                                "fp16_clamped_values": len(clamped), "fp16_clamped_examples": clamped[:3],
                                "note": ("io fp32, weights and activations fp16; build strongly typed (TensorRT 11 "
                                         "default, --stronglyTyped on 10.x)") if prec == "fp16" else
                                        "build with TF32 off (--noTF32 / no BuilderFlag.TF32) for fp32 figures"}})
        art = Artifact(path, manifest)
        art.save()
        artifacts.append(art)
        if manifest.status != "ok":
            failed.append(f"{prec}: {report.get('reason') or 'parity failed'}")
    if failed:
        raise ParityError(f"{name}: TensorRT ONNX failed parity: {'; '.join(failed)} (manifests in {out_dir})")
    return artifacts


def _real_inputs(model):
    inits = {t.name for t in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


def _random_input(vi) -> np.ndarray:
    dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    return np.random.default_rng(0).standard_normal([2] + dims[1:]).astype(np.float32)


def _io(values, model) -> list[dict]:
    from onnx import helper

    inits = {t.name for t in model.graph.initializer}
    return [{"name": v.name, "shape": [d.dim_value if d.HasField("dim_value") else d.dim_param
                                       for d in v.type.tensor_type.shape.dim],
             "dtype": helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name}
            for v in values if v.name not in inits]


def _tools() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("onnx", "onnxruntime", "onnxconverter-common", "edgekit"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out
