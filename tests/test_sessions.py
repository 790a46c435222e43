"""The shared runtime sessions: input matching and layout, and one real runtime end to end."""
from __future__ import annotations

import numpy as np
import pytest

from edge_kit.sessions import OnnxRuntimeSession, _fit, _match


def test_fit_transposes_nchw_only_when_the_file_wants_nhwc():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    nhwc = _fit(x, [2, 4, 5, 3], np.float32)
    assert nhwc.shape == (2, 4, 5, 3) and nhwc.dtype == np.float32
    assert nhwc[1, 2, 3, 0] == x[1, 0, 2, 3]
    assert nhwc.flags["C_CONTIGUOUS"]
    same = _fit(x, [2, 3, 4, 5], np.float32)
    assert np.array_equal(same, x.astype(np.float32))


def test_match_by_position_exact_name_then_decorated_name():
    a, b = np.zeros(1), np.ones(1)
    assert _match(["x", "y"], [a, b]) == [a, b]
    assert _match(["y", "x"], {"x": a, "y": b}) == [b, a]
    # onnx2tf decorates names; a given name contained in the runtime's name still matches
    assert _match(["serving_default_im_shape:0", "serving_default_image:0"], {"image": a, "im_shape": b}) == [b, a]
    with pytest.raises(ValueError):
        _match(["x", "y"], {"x": a})


def test_onnxruntime_session_runs_a_real_model_and_needs_inputs_first():
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Mul", ["a", "b"], ["c"])], "g",
                              [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3]),
                               helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    sess = OnnxRuntimeSession(model.SerializeToString(), threads=1)
    with pytest.raises(RuntimeError):
        sess.invoke()
    a, b = np.array([[1, 2, 3]], np.float32), np.array([[4, 5, 6]], np.float32)
    assert np.array_equal(sess({"b": b, "a": a})[0], a * b)
    sess.feed([a, a])
    sess.invoke()
    assert np.array_equal(sess.outputs()[0], a * a)
