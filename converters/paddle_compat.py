"""Compatibility passes that make programs exported by current Paddle (2.6+, 3.x) readable by
Paddle-Lite 2.13's `Opt`, applied to the serialized ProgramDesc (the legacy `.pdmodel` protobuf).

Each pass fixes one measured incompatibility (see shared/notes/toolchain-facts.md):
  * relu6 lost its `threshold` attribute; Lite's op loader aborts the process without it.
  * flatten_contiguous_range lost its `XShape` output; Lite's InferType dereferences it (segfault).
The passes only add attributes and outputs; they never change what the program computes.

Why MobileNetV3 mismatched before (cosine 0.75): the flatten crash was worked around with
set_valid_places("x86,arm"), and Opt then picks ARM kernels for some ops inside the "x86" .nb, which
compute garbage on x86. With the XShape pass, a pure "x86" place list converts and matches (1e-8).
"""
from __future__ import annotations

from collections import Counter

from converters.program_proto import framework_pb2

fpb = framework_pb2()

FLOAT = fpb.AttrType.FLOAT


def _attr(op, name):
    for a in op.attrs:
        if a.name == name:
            return a
    return None


def _set_float_attr(op, name: str, value: float) -> bool:
    if _attr(op, name) is not None:
        return False
    a = op.attrs.add()
    a.name, a.type, a.f = name, FLOAT, value
    return True


def _vars(block) -> dict:
    return {v.name: v for v in block.vars}


def _add_xshape(block, op, var_index: dict) -> bool:
    """Give flatten_contiguous_range the XShape output Lite expects (a shape-only tensor)."""
    if any(o.parameter == "XShape" and o.arguments for o in op.outputs):
        return False
    out_name = next(o.arguments[0] for o in op.outputs if o.parameter == "Out")
    name = f"{out_name}.xshape"
    if name not in var_index:
        v = block.vars.add()
        v.name = name
        v.type.type = fpb.VarType.DENSE_TENSOR
        v.type.dense_tensor.tensor.data_type = fpb.VarType.FP32
        src = var_index.get(next(i.arguments[0] for i in op.inputs if i.parameter == "X"))
        dims = list(src.type.dense_tensor.tensor.dims) if src is not None else []
        v.type.dense_tensor.tensor.dims.extend([0] + dims)
        var_index[name] = v
    slot = next((o for o in op.outputs if o.parameter == "XShape"), None) or op.outputs.add()
    slot.parameter = "XShape"
    del slot.arguments[:]
    slot.arguments.append(name)
    return True


def make_lite_compatible(program_bytes: bytes) -> tuple[bytes, dict]:
    """Return the rewritten program and a count of what each pass changed (recorded in the manifest)."""
    prog = fpb.ProgramDesc()
    prog.ParseFromString(program_bytes)
    changes = Counter()
    for block in prog.blocks:
        var_index = _vars(block)
        for op in block.ops:
            if op.type == "relu6" and _set_float_attr(op, "threshold", 6.0):
                changes["relu6_threshold"] += 1
            elif op.type == "flatten_contiguous_range" and _add_xshape(block, op, var_index):
                changes["flatten_xshape"] += 1
    return prog.SerializeToString(), {k: v for k, v in changes.items() if v}
