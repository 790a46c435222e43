"""Fix an ONNX model's dynamic input dims to one shape (for onnx2tf: TFLite has no dynamic dims).

Programs from the Paddle toolkits compute reshape targets from the runtime shape (Shape -> Slice -> Concat
-> Reshape). First choice: onnxsim propagates the fixed shape and folds that arithmetic into constants.
onnxsim's graph optimisations are not always right about paddle2onnx's graphs, so each candidate is run
with onnxruntime and must compute what the dynamic model computes at that shape. Measured on PP-OCRv4's
recognizer (onnxsim 0.7.3; both the ONNX edgekit exports and RapidOCR's older opset-12 file): its
`fuse_matmul_add_bias_into_gemm_batched` rewrite of the SVTR block's Linear layers (MatMul + bias Add on
[1, 40, 120] -> Reshape [-1, 120], Gemm, Reshape back), with the Identity paddle2onnx puts after the Add,
loses the reshape back, so paddle2onnx's following target `[0, N, 3, heads, dim]` (0 = copy the input's
dim) copies 40 instead of the batch 1 and the attention runs on [40, 1, ...]: onnxruntime refuses the
folded graph ("Concat ... inferred 40, declared 1"). The same folding without that one rewrite is exact;
without any graph optimisation is the next try. Only the input dims fixed (the last resort) is not enough
for onnx2tf there: it cannot evaluate runtime reshape targets, the SVTR LayerNorm gets an unknown channel
count and onnx2tf stops ("... has 120 elements, but got shape (None,)").
"""
from __future__ import annotations


BATCHED_GEMM = "fuse_matmul_add_bias_into_gemm_batched"


def _fixed_inputs_only(model, shapes: dict[str, list[int]]):
    import onnx

    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.value_info[:]
    for inp in out.graph.input:
        if inp.name in shapes:
            dims = inp.type.tensor_type.shape.dim
            for d, v in zip(dims, shapes[inp.name]):
                d.Clear()
                d.dim_value = int(v)
    return out


def _folded(model, shapes: dict[str, list[int]], **options):
    import onnx
    from onnxsim import simplify

    work = onnx.ModelProto()
    work.CopyFrom(model)  # onnxsim edits its argument
    del work.graph.value_info[:]
    fixed, ok = simplify(work, overwrite_input_shapes=shapes, check_n=0, **options)
    if not ok:
        raise RuntimeError("onnxsim could not specialise the model")
    return fixed


def _folded_no_batched_gemm(model, shapes: dict[str, list[int]]):
    """onnxsim's folding and optimisations except the batched MatMul + Add -> Gemm rewrite (see above)."""
    return _folded(model, shapes, skipped_optimizers=[BATCHED_GEMM])


def _folded_unoptimised(model, shapes: dict[str, list[int]]):
    """Shape inference and constant folding only: reshape targets become constants, nothing is fused."""
    return _folded(model, shapes, perform_optimization=False)


def specialise(model, shapes: dict[str, list[int]]):
    """(model with `shapes` fixed, how). Raises if no candidate computes what the original does."""
    import numpy as np
    import onnxruntime as ort

    names = {i.name for i in model.graph.input}
    unknown = set(shapes) - names
    if unknown:
        raise ValueError(f"no ONNX input named {sorted(unknown)[0]!r} (inputs: {sorted(names)})")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1

    def run(m, feed):
        return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"]).run(None, feed)

    rng = np.random.default_rng(0)
    feed = {n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    want = run(model, feed)
    errors = []
    for how, make in (("onnxsim constant folding", _folded),
                      (f"onnxsim constant folding without {BATCHED_GEMM}", _folded_no_batched_gemm),
                      ("onnxsim constant folding without graph optimisations", _folded_unoptimised),
                      ("input dims only", _fixed_inputs_only)):
        try:
            cand = make(model, shapes)
            got = run(cand, feed)
        except Exception as exc:  # noqa: BLE001 - try the next candidate, report all if none works
            errors.append(f"{how}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if len(got) == len(want) and all(a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-4)
                                          for a, b in zip(want, got)):
            return cand, how
        errors.append(f"{how}: outputs differ from the dynamic model's")
    raise RuntimeError("cannot fix the ONNX input shape: " + "; ".join(errors))


def tf_safe_node_names(model) -> int:
    """Node names TensorFlow accepts as scopes (^[A-Za-z0-9_.\\/>-]*$). Older paddle2onnx releases leave nodes
    nameless (RapidOCR's ONNX files); onnxsim then names them "<op>@<n>", and onnx2tf fails on those
    ("'Softmax@0' is not a valid scope name")."""
    import re

    taken = {n.name for n in model.graph.node}
    changed = 0
    for i, node in enumerate(model.graph.node):
        # a nameless node is named by onnx2tf itself (fine); only names onnx2tf would pass through are fixed
        if not node.name or (re.fullmatch(r"[A-Za-z0-9_.\\/>-]+", node.name) and node.name[0] not in "_-/>"):
            continue
        name = re.sub(r"[^A-Za-z0-9_.]", "_", node.name or "").strip("_") or node.op_type
        name = f"{node.op_type}_{name}" if not name[0].isalnum() else name
        while name in taken:
            name += f"_{i}"
        node.name = name
        taken.add(name)
        changed += 1
    return changed
