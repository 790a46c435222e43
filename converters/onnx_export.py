"""Paddle program -> ONNX with paddle2onnx.

Opset 17: at 13 paddle2onnx decomposes hard_swish into Mul/Add/Clip, which onnx2tf then cannot fuse
back into TFLite's HARD_SWISH (the toolchain notes measured 1.28x slower MobileNetV3 that way).
paddle2onnx logs errors instead of raising and aborts outside opsets 7..21, so the file is checked
after the run and the run happens in a child process.

paddle2onnx 2.1.0 also misreads leaky_relu's `alpha` from programs saved by Paddle 3.3 (measured:
LeakyRelu nodes with alpha 2.5e-43 or 0.0 where the program says 0.1; YOLOv3 heads then reach cosine
0.99). `restore_leaky_relu_alpha` writes the program's values back.
"""
from __future__ import annotations

from pathlib import Path

OPSET = 17


def child_paddle_to_onnx(program: str, params: str, out_file: str, opset: int = OPSET) -> dict:
    import onnx
    import paddle2onnx

    if not 7 <= opset <= 21:
        raise ValueError(f"paddle2onnx supports opsets 7..21, not {opset}")
    paddle2onnx.export(program, params, out_file, opset_version=opset, auto_upgrade_opset=False,
                       verbose=False, enable_onnx_checker=True)
    if not Path(out_file).exists() or Path(out_file).stat().st_size < 64:
        raise RuntimeError("paddle2onnx wrote no ONNX file (an op without a converter? see its log above)")
    model = onnx.load(out_file)
    fixed = restore_leaky_relu_alpha(model, Path(program).read_bytes())
    if fixed:
        onnx.save(model, out_file)
    onnx.checker.check_model(model)
    return {"opset": opset, "paddle2onnx": paddle2onnx.__version__, "leaky_relu_alpha_restored": fixed}


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
