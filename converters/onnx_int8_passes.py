"""ONNX rewrites needed before full-integer TFLite quantization (measured on ShuffleNetV2, LiteRT 2.3).

A padded MaxPool whose pads TensorFlow's SAME cannot express (k3 s2 p1 on an even size pads 1 on each
side; SAME pads 0/1) becomes, in onnx2tf, PADV2 with the float32 lowest value followed by a VALID
MAX_POOL_2D. The TFLite quantizer then takes that constant into the activation range: PADV2 must share
its input's scale, so the stem's activations got scale 1.33e+36 (zero point 127): every value quantizes
to the same code, the network's output is constant (cosine with fp32 ~0, with the builtin kernels), and
LiteRT's XNNPACK delegate refuses the graph ("failed to create XNNPACK runtime" at allocate). The 61
TRANSPOSE of the channel shuffle are not the cause: XNNPACK takes them once the scale is sane.

The rewrite makes the padding explicit with a value that does not widen the range and that max pooling
cannot tell from -inf:
  * input from Relu (or Clip with min >= 0): Pad with constant 0. The input is >= 0 and every window holds
    at least one real element, so a 0 never exceeds the window's max. Exact.
  * any other input: Pad in `edge` mode (replicate the border). Each padded element copies a real element
    that lies in every window the padded one is in (pads < kernel, dilation 1), so the max is unchanged.
    Exact.
MaxPool with ceil_mode or dilations is left alone (its implicit end padding is not expressed by pads).
"""
from __future__ import annotations


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _nonnegative(name: str, producers: dict, initializers: dict) -> bool:
    node = producers.get(name)
    if node is None:
        return False
    if node.op_type == "Relu":
        return True
    if node.op_type == "Clip":
        lo = _attrs(node).get("min")
        if lo is None and len(node.input) > 1 and node.input[1] in initializers:
            from onnx import numpy_helper

            lo = float(numpy_helper.to_array(initializers[node.input[1]]))
        return lo is not None and lo >= 0
    return False


def maxpool_pads_explicit(model) -> int:
    """Padded MaxPool -> Pad (0 after ReLU, else edge) + unpadded MaxPool. Returns how many were rewritten."""
    import numpy as np
    from onnx import helper, numpy_helper

    g = model.graph
    producers = {o: n for n in g.node for o in n.output}
    initializers = {i.name: i for i in g.initializer}
    nodes, changed = [], 0
    for node in g.node:
        a = _attrs(node) if node.op_type == "MaxPool" else {}
        pads = list(a.get("pads", []))
        if (node.op_type != "MaxPool" or not any(pads) or a.get("ceil_mode", 0)
                or any(d != 1 for d in a.get("dilations", [])) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
                or len(node.output) > 1):
            nodes.append(node)
            continue
        rank = len(pads) // 2 + 2
        onnx_pads = [0, 0] + pads[:rank - 2] + [0, 0] + pads[rank - 2:]   # N, C unpadded
        tag = f"{node.output[0]}__mp{changed}"
        g.initializer.append(numpy_helper.from_array(np.array(onnx_pads, np.int64), f"{tag}_pads"))
        if _nonnegative(node.input[0], producers, initializers):
            g.initializer.append(numpy_helper.from_array(np.array(0.0, np.float32), f"{tag}_zero"))
            pad = helper.make_node("Pad", [node.input[0], f"{tag}_pads", f"{tag}_zero"], [f"{tag}_padded"],
                                   mode="constant")
        else:
            pad = helper.make_node("Pad", [node.input[0], f"{tag}_pads"], [f"{tag}_padded"], mode="edge")
        keep = {k: v for k, v in a.items() if k not in ("pads", "auto_pad")}
        pool = helper.make_node("MaxPool", [f"{tag}_padded"], list(node.output), name=node.name, **keep)
        nodes += [pad, pool]
        changed += 1
    del g.node[:]
    g.node.extend(nodes)
    return changed
