"""Paddle program -> ONNX with paddle2onnx.

Opset 17: at 13 paddle2onnx decomposes hard_swish into Mul/Add/Clip, which onnx2tf then cannot fuse
back into TFLite's HARD_SWISH (the toolchain notes measured 1.28x slower MobileNetV3 that way).
paddle2onnx logs errors instead of raising and aborts outside opsets 7..21, so the file is checked
after the run and the run happens in a child process.

paddle2onnx 2.1.0 also misreads leaky_relu's `alpha` from programs saved by Paddle 3.3 (measured:
LeakyRelu nodes with alpha 2.5e-43 or 0.0 where the program says 0.1; YOLOv3 heads then reach cosine
0.99). `restore_leaky_relu_alpha` writes the program's values back.

Programs exported by the Paddle toolkits (PaddleOCR's mobile det/rec/cls, Paddle 2.x) broke paddle2onnx 2.1
in two more ways, both measured on PaddleOCR's models and reproduced by tests/fixtures/ocr_nets.py:
  * Paddle 2.x recorded a `slice` with `decrease_axis` over every dim (`paddle.shape(x)[0]`) as shape [1];
    Paddle 3 computes a 0-D tensor there. paddle2onnx trusts the recorded [1] on one side and the 0-D on the
    other and writes Concats of mixed or scalar rank that onnxruntime rejects ("Concat ... axis must be in
    [-rank, rank-1]", "All inputs to Concat must have same rank"). `zero_d_slices` records them as 0-D,
    which is what Paddle 3 (and the reference run) computes.
  * Paddle 3's legacy -> PIR translation writes `nearest_interp_v2`'s `scale` as array<double>; paddle2onnx
    wants array<float> and aborts (`pir_parser.cc: the 0th elementwise MUST be ir::FloatAttribute`). The
    program is translated here, and `float_interp_scales` retypes those attributes in the PIR json.
A PIR export (`inference.json`, Paddle 3's default) goes through the same json fix and straight to
paddle2onnx. Dynamic dims stay dynamic in the ONNX file.

A program with `deformable_conv` (PP-YOLO's DCNv2) is exported at opset 19, the first with ONNX DeformConv
(paddle2onnx 2.1 maps the op to nothing else and aborts below 19), and each DeformConv is then rewritten into
GridSample + Mul + 1x1 Conv (converters/onnx_deform_conv.py): onnxruntime 1.23.2, the newest for CPython 3.10,
has no DeformConv kernel, so the op as exported could not be verified. Every other program stays at OPSET.
"""
from __future__ import annotations

from pathlib import Path

OPSET = 17
DEFORM_OPSET = 19   # ONNX DeformConv exists from opset 19
# What the ONNX stage does with DeformConv (part of its cache key, so a change to the rewrite re-exports)
DEFORM_REWRITE = "DeformConv -> GridSample + Mul + 1x1 Conv"


def program_op_types(program: Path) -> set[str]:
    """The op types of a legacy .pdmodel or a PIR .json program (no Paddle import: read in the parent)."""
    import json

    program = Path(program)
    if program.suffix == ".json":
        return pir_op_types(json.loads(program.read_text()))
    from converters.program_proto import framework_pb2

    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(program.read_bytes())
    return {op.type for block in desc.blocks for op in block.ops}


def pir_op_types(doc) -> set[str]:
    """The op types of a parsed PIR json program: ops (and attribute types) are dicts whose "#" names them
    "dialect.name"; the name part is kept."""
    types: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("#"), str):
                types.add(node["#"].rsplit(".", 1)[-1])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return types


def export_opset(program: Path) -> int:
    """The opset a program is exported at: OPSET, or DEFORM_OPSET when it has deformable_conv."""
    return DEFORM_OPSET if "deformable_conv" in program_op_types(program) else OPSET


def zero_d_slices(program_bytes: bytes) -> tuple[bytes, int]:
    """Record `slice` outputs that drop every dim (decrease_axis over all axes) as 0-D, as Paddle 3 computes
    them; Paddle 2.x wrote them as [1]. Returns the program and how many vars changed."""
    from converters.program_proto import framework_pb2

    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(program_bytes)
    changed = 0
    for block in desc.blocks:
        var = {v.name: v for v in block.vars}
        for op in block.ops:
            if op.type != "slice":
                continue
            attrs = {a.name: list(a.ints) for a in op.attrs if a.name in ("decrease_axis", "axes")}
            src = next((var.get(i.arguments[0]) for i in op.inputs if i.parameter == "Input" and i.arguments), None)
            dst = next((var.get(o.arguments[0]) for o in op.outputs if o.parameter == "Out" and o.arguments), None)
            if src is None or dst is None:
                continue
            rank = len(src.type.dense_tensor.tensor.dims)
            if rank and len(attrs.get("decrease_axis", [])) == rank and list(dst.type.dense_tensor.tensor.dims) == [1]:
                del dst.type.dense_tensor.tensor.dims[:]
                changed += 1
    return desc.SerializeToString(), changed


def float_interp_scales(doc: dict) -> int:
    """Retype the `scale` arrays of PIR interpolation ops from double to float (what paddle2onnx reads)."""
    changed = 0

    def walk(node):
        nonlocal changed
        if isinstance(node, dict):
            if str(node.get("#", "")).endswith("_interp"):
                for attr in node.get("A", []):
                    if attr.get("N") == "scale" and attr["AT"].get("#") == "0.a_array":
                        for elem in attr["AT"]["D"]:
                            if elem.get("#") == "0.a_f64":
                                elem["#"] = "0.a_f32"
                                changed += 1
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return changed


def _legacy_to_pir(program: Path, params: Path, work: Path) -> Path:
    """What paddle2onnx does with a .pdmodel, done here so the PIR json can be fixed before it reads it."""
    import paddle
    from paddle2onnx.convert import load_parameter, save_program  # paddle2onnx's own translation helpers

    exe = paddle.static.Executor(paddle.CPUPlace())
    with paddle.pir_utils.OldIrGuard():
        prog, _, _ = paddle.static.load_inference_model(str(program.parent), exe,
                                                        model_filename=program.name, params_filename=params.name)
    pir = paddle.pir.translate_to_pir(prog.desc)
    load_parameter(pir)
    save_program(pir, str(work / "translated"))
    return work / "translated.json"


def child_paddle_to_onnx(program: str, params: str, out_file: str, opset: int = OPSET,
                         rewrite_deform_conv: bool = False) -> dict:
    """paddle2onnx in a child; rewrite_deform_conv: replace each DeformConv by standard ops afterwards
    (fixes["deform_conv_rewritten"] says how many)."""
    import json
    import os
    import shutil
    import tempfile

    import onnx
    import paddle2onnx

    if not 7 <= opset <= 21:
        raise ValueError(f"paddle2onnx supports opsets 7..21, not {opset}")
    if os.environ.get("FLAGS_enable_pir_api") == "0":
        raise RuntimeError("the ONNX export translates to PIR: run it with FLAGS_enable_pir_api on")
    program, params, out_file = Path(program).resolve(), Path(params).resolve(), str(Path(out_file).resolve())
    fixes = {}
    work = Path(tempfile.mkdtemp(prefix="edgekit-p2o-"))
    # paddle2onnx's optimizer can leave temporary files (sym_shape_infer_temp.onnx, external-data blobs) in
    # the working directory; this child works in its scratch directory, not the user's
    os.chdir(work)
    try:
        if program.suffix == ".pdmodel":
            fixed_bytes, fixes["zero_d_slices"] = zero_d_slices(program.read_bytes())
            (work / "program.pdmodel").write_bytes(fixed_bytes)
            shutil.copy2(params, work / "program.pdiparams")
            pir_json = _legacy_to_pir(work / "program.pdmodel", work / "program.pdiparams", work)
            pir_params = pir_json.with_suffix(".pdiparams")
        else:
            pir_json, pir_params = work / "program.json", params
            shutil.copy2(program, pir_json)
        doc = json.loads(pir_json.read_text())
        if opset < DEFORM_OPSET and "deformable_conv" in pir_op_types(doc):  # else paddle2onnx aborts the process, saying nothing
            raise RuntimeError(f"the program has deformable_conv (deformable conv, e.g. PP-YOLO's DCNv2), which "
                               f"paddle2onnx maps only to ONNX DeformConv (opset >= 19), not at opset {opset} "
                               f"(edgekit's ONNX stage exports such programs at opset {DEFORM_OPSET} and rewrites "
                               f"DeformConv for onnxruntime)")
        fixes["float_interp_scales"] = float_interp_scales(doc)
        pir_json.write_text(json.dumps(doc))
        paddle2onnx.export(str(pir_json), str(pir_params), out_file, opset_version=opset, auto_upgrade_opset=False,
                           verbose=False, enable_onnx_checker=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not Path(out_file).exists() or Path(out_file).stat().st_size < 64:
        raise RuntimeError("paddle2onnx wrote no ONNX file (an op without a converter? see its log above)")
    model = onnx.load(out_file)
    fixed = restore_leaky_relu_alpha(model, program.read_bytes()) if program.suffix == ".pdmodel" else 0
    rewritten = 0
    if rewrite_deform_conv:
        from converters.onnx_deform_conv import decompose_deform_conv

        model, rewritten = decompose_deform_conv(model)
        fixes["deform_conv_rewritten"] = rewritten
    if fixed or rewritten:
        onnx.save(model, out_file)
    onnx.checker.check_model(model)
    fixes["leaky_relu_alpha_restored"] = fixed
    return {"opset": opset, "paddle2onnx": paddle2onnx.__version__, "fixes": {k: v for k, v in fixes.items() if v},
            "leaky_relu_alpha_restored": fixed}


def restore_leaky_relu_alpha(model, program_bytes: bytes) -> int:
    """Set each LeakyRelu's alpha to its leaky_relu op's in the Paddle program (same order: paddle2onnx
    converts ops in program order). Returns how many nodes changed."""
    from converters.program_proto import framework_pb2

    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(program_bytes)
    alphas = [next(a.f for a in op.attrs if a.name == "alpha")
              for block in desc.blocks for op in block.ops if op.type == "leaky_relu"]
    nodes = [n for n in model.graph.node if n.op_type == "LeakyRelu"]
    if not nodes:
        return 0
    if len(nodes) != len(alphas):
        raise RuntimeError(f"{len(nodes)} LeakyRelu nodes for {len(alphas)} leaky_relu ops: cannot restore alpha")
    changed = 0
    for node, alpha in zip(nodes, alphas):
        attr = next((a for a in node.attribute if a.name == "alpha"), None)
        if attr is None:
            attr = node.attribute.add()
            attr.name, attr.type = "alpha", attr.FLOAT
        if attr.f != alpha:
            attr.f = alpha
            changed += 1
    return changed


def onnx_io(path: Path) -> tuple[list[dict], list[dict]]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    init = {i.name for i in model.graph.initializer}

    def describe(v):
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        return {"name": v.name, "shape": shape, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name}

    return ([describe(v) for v in model.graph.input if v.name not in init], [describe(v) for v in model.graph.output])


def onnx_op_histogram(path: Path) -> dict[str, int]:
    import onnx
    from collections import Counter

    return dict(sorted(Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node).items()))
