"""The ONNX rewrite before int8 TFLite quantization (converters.onnx_int8_passes): a padded MaxPool becomes
an explicit Pad (0 after ReLU, edge otherwise) + unpadded MaxPool, with the same numbers; a -inf pad left
in the graph gave ShuffleNetV2's stem an int8 scale of 1e36 (a constant network output, and XNNPACK
refusing the file)."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from converters.onnx_int8_passes import maxpool_pads_explicit


def _model(pre_op: str | None, pads=(1, 1, 1, 1), **pool_attrs):
    nodes, src = [], "x"
    if pre_op == "Relu":
        nodes.append(helper.make_node("Relu", ["x"], ["r"]))
        src = "r"
    elif pre_op == "Neg":  # an input with negative values: a 0 pad would change the max
        nodes.append(helper.make_node("Neg", ["x"], ["r"]))
        src = "r"
    nodes.append(helper.make_node("MaxPool", [src], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                  pads=list(pads), **pool_attrs))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 10, 10])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _run(model, x):
    import onnxruntime as ort

    opts = ort.SessionOptions()  # onnxruntime's PadFusion would fold a 0 Pad back into the MaxPool's pads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


@pytest.mark.parametrize("pre_op, mode", [("Relu", b"constant"), ("Neg", b"edge"), (None, b"edge")])
def test_padded_maxpool_rewritten_exactly(pre_op, mode):
    x = np.random.default_rng(0).normal(size=(1, 4, 10, 10)).astype(np.float32) - 2.0  # mostly negative
    model = _model(pre_op)
    want = _run(model, x)
    assert maxpool_pads_explicit(model) == 1
    ops = [n.op_type for n in model.graph.node]
    assert ops[-2:] == ["Pad", "MaxPool"]
    pad, pool = model.graph.node[-2:]
    assert [a.s for a in pad.attribute if a.name == "mode"] == [mode]
    assert not [a for a in pool.attribute if a.name == "pads"]
    np.testing.assert_array_equal(_run(model, x), want)


def test_zero_pad_would_be_wrong_without_relu():
    """Why the non-ReLU case uses edge mode: a 0 pad raises the border max of negative inputs."""
    from onnx import numpy_helper

    x = -np.abs(np.random.default_rng(1).normal(size=(1, 4, 10, 10)).astype(np.float32)) - 1.0
    want = _run(_model(None), x)
    model = _model(None)
    maxpool_pads_explicit(model)
    np.testing.assert_array_equal(_run(model, x), want)
    zero = _model(None, pads=(0, 0, 0, 0))
    zero.graph.initializer.extend([numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p")])
    zero.graph.node.insert(0, helper.make_node("Pad", ["x", "p"], ["xp"], mode="constant"))
    zero.graph.node[1].input[0] = "xp"
    assert (_run(zero, x) > want).any()


def test_unpadded_and_ceil_mode_pools_are_left_alone():
    for model in (_model(None, pads=(0, 0, 0, 0)), _model(None, ceil_mode=1)):
        before = [n.op_type for n in model.graph.node]
        assert maxpool_pads_explicit(model) == 0
        assert [n.op_type for n in model.graph.node] == before
