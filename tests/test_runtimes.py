"""The runtime layer (edge_kit.runtimes): input matching and layout, named outputs, one real runtime end to
end, and the formats table that says which runtime runs what."""
from __future__ import annotations

import numpy as np
import pytest

from edge_kit import formats
from edge_kit.errors import EdgekitError
from edge_kit.runtimes import BackendError, open_runtime, per_image, runtime_class
from edge_kit.runtimes.tensors import fit, match


def test_fit_transposes_nchw_only_when_the_file_wants_nhwc():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    nhwc = fit(x, [2, 4, 5, 3], np.float32)
    assert nhwc.shape == (2, 4, 5, 3) and nhwc.dtype == np.float32
    assert nhwc[1, 2, 3, 0] == x[1, 0, 2, 3]
    assert nhwc.flags["C_CONTIGUOUS"]
    same = fit(x, [2, 3, 4, 5], np.float32)
    assert np.array_equal(same, x.astype(np.float32))


def test_match_by_position_exact_name_then_decorated_name():
    a, b = np.zeros(1), np.ones(1)
    assert match(["x", "y"], [a, b]) == [a, b]
    assert match(["y", "x"], {"x": a, "y": b}) == [b, a]
    # onnx2tf decorates names; a given name contained in the runtime's name still matches
    assert match(["serving_default_im_shape:0", "serving_default_image:0"], {"image": a, "im_shape": b}) == [b, a]
    with pytest.raises(ValueError):
        match(["x", "y"], {"x": a})


def _two_output_model() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Mul", ["a", "b"], ["prod"]), helper.make_node("Add", ["a", "b"], ["sum"])],
                              "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3]),
                                    helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [1, 3]),
                               helper.make_tensor_value_info("prod", TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_onnxruntime_infers_by_name_and_needs_inputs_before_invoke():
    rt = open_runtime("onnxruntime", _two_output_model(), threads=1)
    with pytest.raises(RuntimeError):
        rt.invoke()
    ins, outs = rt.io()
    assert [(t.name, t.shape, t.dtype) for t in ins] == [("a", (1, 3), "float"), ("b", (1, 3), "float")]
    assert [t.name for t in outs] == ["sum", "prod"]
    a, b = np.array([[1, 2, 3]], np.float32), np.array([[4, 5, 6]], np.float32)
    got = rt.infer({"b": b, "a": a})
    assert list(got) == ["sum", "prod"]            # named, in the file's output order
    assert np.array_equal(got["sum"], a + b) and np.array_equal(got["prod"], a * b)
    assert len(rt.timed(3)) == 3 and all(t > 0 for t in rt.timed(3))
    batch = per_image(rt, [np.concatenate([a, b]), np.concatenate([b, b])])
    assert np.array_equal(batch[1][1], b * b)      # image 1, output 1 (prod)


def test_thread_rules_and_unknown_runtimes_come_from_the_table():
    assert formats.runtime("paddlelite").host_threads == 1
    with pytest.raises(BackendError, match="--threads 1"):
        runtime_class("paddlelite")("m.nb", threads=2)
    with pytest.raises(EdgekitError, match="TensorRT version it was built for"):
        runtime_class("tensorrt")
    # every host runtime named in the table is importable and is the row it claims to be
    for name in formats.HOST_RUNTIMES:
        assert runtime_class(name).name == name


def test_formats_table_answers_suffix_and_runs_here():
    assert formats.format_of_suffix(".nb") == "paddlelite" and formats.format_of_suffix(".engine") == "tensorrt"
    assert formats.runs_here("paddlelite", "x86")[0] and not formats.runs_here("paddlelite", "arm")[0]
    assert "ARM kernels" in formats.runs_here("paddlelite", "arm")[1]
    assert not formats.runs_here("tensorrt", "gpu")[0]
    assert formats.runs_here("tflite", "cpu") == (True, "yes: LiteRT on this machine")
    assert formats.CONVERT_FORMATS == ("paddlelite", "onnx", "tflite", "ort")
    assert formats.DEFAULT_CONVERT_FORMATS == ("paddlelite", "onnx", "tflite")   # ort is opt-in
    assert formats.LITE_TARGETS == ("arm", "opencl")


def test_readme_formats_table_is_the_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert formats.markdown_table() in readme, "README's formats table is stale: paste `edgekit formats`"
