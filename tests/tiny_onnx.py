"""Tiny ONNX graphs built with onnx.helper for the TensorRT-preparation tests (no conversion needed)."""
from __future__ import annotations

import numpy as np


def tiny_vision_onnx(path, *, resize_mode="linear", dynamic_batch=False, extra_node=None, argmax=True, seed=0):
    """[1,3,32,32] -> Conv -> BatchNorm -> Clip(0,6) -> Resize x2 (mode) -> Conv -> GlobalAveragePool ->
    Flatten -> Gemm -> logits [1,10], plus an int64 ArgMax output when `argmax`: the op mix of edgekit's
    raw graphs (ReLU6 as Clip with initializer bounds, YOLO/segmentation upsampling as Resize)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    f = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.3  # noqa: E731
    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("w1", f(8, 3, 3, 3)), ("b1", f(8)),
        ("bn_s", (1 + f(8)).astype(np.float32)), ("bn_b", f(8)), ("bn_m", f(8)),
        ("bn_v", (np.abs(f(8)) + 0.5).astype(np.float32)),
        ("lo", np.array(0, np.float32)), ("hi", np.array(6, np.float32)),
        ("scales", np.array([1, 1, 2, 2], np.float32)),
        ("w2", f(16, 8, 3, 3)), ("fc_w", f(10, 16)), ("fc_b", f(10)),
    ]]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv1"),
        helper.make_node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn"], name="bn1"),
        helper.make_node("Clip", ["bn", "lo", "hi"], ["r6"], name="relu6"),
        helper.make_node("Resize", ["r6", "", "scales"], ["up"], mode=resize_mode,
                         coordinate_transformation_mode="half_pixel", name="upsample"),
        helper.make_node("Conv", ["up", "w2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("GlobalAveragePool", ["c2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc"),
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])]
    if argmax:
        nodes.append(helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0, name="argmax"))
        outputs.append(helper.make_tensor_value_info("label", TensorProto.INT64, [1]))
    if extra_node is not None:
        nodes.append(extra_node)
    batch = "N" if dynamic_batch else 1
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                           [batch, 3, 32, 32])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgekit-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
