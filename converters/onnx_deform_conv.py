"""ONNX DeformConv rewritten into standard ops, for runtimes that lack it.

PP-YOLO's backbone uses deformable conv v2; paddle2onnx 2.1 maps Paddle's `deformable_conv` to ONNX
`DeformConv` (opset 19), which onnxruntime 1.23 has no kernel for ("NOT_IMPLEMENTED : Could not find an
implementation for DeformConv(19)"; the kernel of microsoft/onnxruntime#27393 first ships in 1.25.0, which
has no CPython 3.10 wheel, and edgekit is bound to 3.10 by Paddle-Lite 2.13). The rewrite computes the
op's definition with GridSample, Mul and a 1x1 Conv; measured on tests/fixtures/deform_net.py against Paddle Inference: cosine 0.9999999999996, max|d| 2.9e-7
(bench_results/deformconv_probe.json). The ONNX stage applies it to every program with deformable_conv
(converters/onnx_export.py: child_paddle_to_onnx(rewrite_deform_conv=True), opset 19).
"""
from __future__ import annotations

import numpy as np


def decompose_deform_conv(model):
    """Rewrite each ONNX DeformConv (group 1, offset_group 1, static shapes) into ops every runtime here has:

        offsets [N, 2K, oH, oW] -> [N, K, 2, oH, oW] -> (y, x) swapped to (x, y) -> [N, K, oH, oW, 2]
        grid = (kernel tap position + offset) normalised to [-1, 1] (align_corners=1) -> [N, K*oH, oW, 2]
        GridSample(X, grid, bilinear, zeros)  -> [N, C, K*oH, oW] -> [N, C, K, oH, oW] (* mask) -> [N, C*K, oH, oW]
        Conv 1x1 with W reshaped [oC, C*K, 1, 1] (+ bias)

    which is DeformConv's definition (onnx/reference/ops/op_deform_conv.py samples with GridSample,
    align_corners=1, zero padding, too). Returns (model, number of nodes rewritten)."""
    import onnx
    from onnx import helper, numpy_helper, shape_inference

    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]}
    inits = {t.name: t for t in model.graph.initializer}
    new_nodes, new_inits, count = [], [], 0

    def const(name, array):
        new_inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    for node in model.graph.node:
        if node.op_type != "DeformConv":
            new_nodes.append(node)
            continue
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        if a.get("group", 1) != 1 or a.get("offset_group", 1) != 1:
            raise ValueError(f"{node.name}: only group 1 / offset_group 1 is rewritten")
        x_name, w_name, off_name = node.input[:3]
        bias = node.input[3] if len(node.input) > 3 and node.input[3] else ""
        mask = node.input[4] if len(node.input) > 4 and node.input[4] else ""
        w = numpy_helper.to_array(inits[w_name])
        oc, c, kh, kw = w.shape
        k = kh * kw
        sh, sw = a.get("strides", [1, 1])
        dh, dw = a.get("dilations", [1, 1])
        pt, pl = a.get("pads", [0, 0, 0, 0])[:2]
        _, _, h, wd = shapes[x_name]
        oh, ow = shapes[off_name][2:]
        if min(h, wd, oh, ow) <= 1:
            raise ValueError(f"{node.name}: needs static spatial shapes > 1 (got input {shapes[x_name]})")
        p = f"{node.name or 'deform'}.dec"
        tap_y, tap_x = np.repeat(np.arange(kh), kw) * dh, np.tile(np.arange(kw), kh) * dw
        base_y = np.arange(oh)[None, :, None] * sh - pt + tap_y[:, None, None] + np.zeros((1, 1, ow))
        base_x = np.arange(ow)[None, None, :] * sw - pl + tap_x[:, None, None] + np.zeros((1, oh, 1))
        scale = np.array([2.0 / (wd - 1), 2.0 / (h - 1)], np.float32)          # (x, y)
        base = (np.stack([base_x, base_y], axis=-1) * scale - 1.0)[None].astype(np.float32)  # [1, K, oH, oW, 2]
        new_nodes += [
            helper.make_node("Reshape", [off_name, const(f"{p}.s_off", np.array([0, k, 2, oh, ow], np.int64))],
                             [f"{p}.off5"]),
            helper.make_node("Gather", [f"{p}.off5", const(f"{p}.xy", np.array([1, 0], np.int64))], [f"{p}.offxy"],
                             axis=2),
            helper.make_node("Transpose", [f"{p}.offxy"], [f"{p}.offT"], perm=[0, 1, 3, 4, 2]),
            helper.make_node("Mul", [f"{p}.offT", const(f"{p}.scale", scale)], [f"{p}.offN"]),
            helper.make_node("Add", [f"{p}.offN", const(f"{p}.base", base)], [f"{p}.grid5"]),
            helper.make_node("Reshape", [f"{p}.grid5", const(f"{p}.s_grid", np.array([0, k * oh, ow, 2], np.int64))],
                             [f"{p}.grid"]),
            helper.make_node("GridSample", [x_name, f"{p}.grid"], [f"{p}.samp"], mode="bilinear",
                             padding_mode="zeros", align_corners=1),
            helper.make_node("Reshape", [f"{p}.samp", const(f"{p}.s_samp", np.array([0, c, k, oh, ow], np.int64))],
                             [f"{p}.samp5"]),
        ]
        cols = f"{p}.samp5"
        if mask:
            new_nodes += [
                helper.make_node("Reshape", [mask, const(f"{p}.s_mask", np.array([0, 1, k, oh, ow], np.int64))],
                                 [f"{p}.mask5"]),
                helper.make_node("Mul", [cols, f"{p}.mask5"], [f"{p}.masked"])]
            cols = f"{p}.masked"
        new_nodes += [
            helper.make_node("Reshape", [cols, const(f"{p}.s_cols", np.array([0, c * k, oh, ow], np.int64))],
                             [f"{p}.cols"]),
            helper.make_node("Conv", [f"{p}.cols", const(f"{p}.w", w.reshape(oc, c * k, 1, 1)), *([bias] if bias else [])],
                             list(node.output), kernel_shape=[1, 1]),
        ]
        count += 1
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    model.graph.initializer.extend(new_inits)
    used = {i for n in model.graph.node for i in n.input}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    onnx.checker.check_model(model)
    return model, count
