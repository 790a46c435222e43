"""ONNX -> TFLite (fp32 and fp16 weights) with onnx2tf, NHWC image input, fully offline.

onnx2tf downloads `calibration_image_sample_data_20x128x128x3_float32.npy` from the internet for any
model with a 4-D 3-channel input, int8 or not, and crashes offline; a file of that name in its
working directory is used instead, so the child runs in a scratch directory where the caller has put
one (write_calibration_file, with edgekit's own natural images: edge_kit.conversion.stages).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

CALIBRATION_NAME = "calibration_image_sample_data_20x128x128x3_float32.npy"


def write_calibration_file(workdir: Path, images: np.ndarray) -> Path:
    """Put onnx2tf's calibration file in `workdir`: `images` (N, H, W, 3 uint8 pixels) scaled to [0, 1]."""
    path = Path(workdir) / CALIBRATION_NAME
    np.save(path, images.astype(np.float32) / 255.0)
    return path


def require_calibration_file(workdir: Path) -> None:
    """Without its calibration file onnx2tf downloads one (and fails offline): refuse to start it."""
    if not (Path(workdir) / CALIBRATION_NAME).is_file():
        raise RuntimeError(f"no {CALIBRATION_NAME} in {workdir}: onnx2tf would download one; the caller puts it "
                           "there first (write_calibration_file)")


def hardsigmoid_as_relu6(model) -> int:
    """HardSigmoid(x; a, b) = clip(a*x + b, 0, 1) = Clip(6a*x + 6b, 0, 6) / 6, the form Keras's MobileNetV3
    uses. onnx2tf turns HardSigmoid into RELU_0_TO_1, which LiteRT's XNNPACK delegate does not take: each
    SE block then splits the delegated graph (MobileNetV3_small: 10 partitions). In this form the TFLite
    converter folds the scale and shift into the preceding conv, fuses RELU6 as its activation and
    leaves one MUL, all delegated. Same function up to float rounding; parity checks it."""
    import numpy as np
    from onnx import helper, numpy_helper

    nodes, changed = [], 0
    for node in model.graph.node:
        if node.op_type != "HardSigmoid":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        a, b = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
        tag = f"{node.output[0]}__hs{changed}"
        consts = {f"{tag}_scale": 6 * a, f"{tag}_shift": 6 * b, f"{tag}_zero": 0.0, f"{tag}_six": 6.0,
                  f"{tag}_sixth": 1.0 / 6.0}
        model.graph.initializer.extend(numpy_helper.from_array(np.array(v, np.float32), k) for k, v in consts.items())
        nodes += [helper.make_node("Mul", [node.input[0], f"{tag}_scale"], [f"{tag}_m"]),
                  helper.make_node("Add", [f"{tag}_m", f"{tag}_shift"], [f"{tag}_a"]),
                  helper.make_node("Clip", [f"{tag}_a", f"{tag}_zero", f"{tag}_six"], [f"{tag}_c"]),
                  helper.make_node("Mul", [f"{tag}_c", f"{tag}_sixth"], [node.output[0]])]
        changed += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return changed


class _NoSavedModel:
    """onnx2tf writes a Keras SavedModel before it converts (`tf.saved_model.save(model, folder)`), which
    edgekit never uses: measured on MobileNetV3_small, 37 of onnx2tf's 46 s under a profiler. Its TFLite
    files come from `TFLiteConverter.from_concrete_functions` on a function traced before that save, so
    skipping the save leaves them byte-identical (tests/test_conversion_speed.py checks this). onnx2tf
    has no option for it (`output_signaturedefs` swaps in a cheaper writer, which still writes one, and
    renames tensors), so the save is a no-op while the child converts."""

    def __enter__(self):
        import tensorflow as tf

        self._tf, self._save = tf, tf.saved_model.save
        tf.saved_model.save = lambda *args, **kwargs: None
        return self

    def __exit__(self, *exc):
        self._tf.saved_model.save = self._save
        return False


def child_onnx_to_tflite(onnx_file: str, workdir: str, out_fp32: str, out_fp16: str,
                         write_saved_model: bool = False, input_shapes: dict | None = None,
                         strict: bool = True) -> dict:
    """onnx2tf on a copy of the ONNX -> fp32 and fp16 TFLite files.

    strict=False skips onnx2tf's "strict mode", its accuracy search that, per BatchNormalization/MatMul
    and similar node, builds and runs a Keras model of the graph so far to try transpositions against
    onnxruntime (half of onnx2tf's time on YOLOv3-MobileNetV1: 41 s -> 21 s). Measured on YOLOv3-MobileNetV1:
    same ops and bit-identical outputs, only internal tensor names differ; all 10 lightweight zoo models
    pass parity without it. The caller verifies every file
    against the reference and converts again with strict=True when that fails
    (edge_kit.conversion.stages.Pipeline.tflite)."""
    import contextlib

    import onnx
    import onnx2tf

    work = Path(workdir)
    require_calibration_file(work)
    # The TFLite-specific rewrite goes into a copy: the ONNX artifact stays as paddle2onnx made it.
    model = onnx.load(onnx_file)
    passes = {"hardsigmoid_as_relu6": hardsigmoid_as_relu6(model)}
    if input_shapes:  # dynamic dims: TFLite gets the verified shape (converters.onnx_shapes)
        from converters.onnx_shapes import specialise
        model, how = specialise(model, input_shapes)
        passes["input_shape_fixed"] = ";".join(f"{k}:{','.join(map(str, v))}" for k, v in input_shapes.items())
        passes["input_shape_fixed_by"] = how
    from converters.onnx_shapes import tf_safe_node_names

    passes["tf_safe_node_names"] = tf_safe_node_names(model)
    source = work / Path(onnx_file).name
    onnx.save(model, str(source))
    saved = work / "saved_model"
    # not_use_onnxsim: onnx2tf runs the `onnxsim` command found on PATH, so the result would depend on
    # whether the environment's bin/ is on PATH (an activated venv) or not; edgekit is tested without it.
    with contextlib.nullcontext() if write_saved_model else _NoSavedModel():
        onnx2tf.convert(input_onnx_file_path=str(source), output_folder_path=str(saved), non_verbose=True,
                        copy_onnx_input_output_names_to_tflite=True, not_use_onnxsim=True,
                        disable_strict_mode=not strict)
    source.unlink()
    stem = Path(onnx_file).stem
    produced = {"fp32": saved / f"{stem}_float32.tflite", "fp16": saved / f"{stem}_float16.tflite"}
    for precision, dest in (("fp32", out_fp32), ("fp16", out_fp16)):
        if not produced[precision].exists():
            raise RuntimeError(f"onnx2tf produced no {produced[precision].name}")
        shutil.move(str(produced[precision]), dest)
    shutil.rmtree(saved, ignore_errors=True)
    return {"onnx2tf": onnx2tf.__version__, "passes": {k: v for k, v in passes.items() if v}, "strict_mode": strict}


def tflite_io_and_ops(path: Path) -> tuple[list[dict], list[dict], dict[str, int]]:
    from collections import Counter

    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # Without the default XNNPACK delegate the op list is the file's own, not "DELEGATE" nodes.
    interp = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    ops = Counter(op["op_name"] for op in interp._get_ops_details())

    def describe(d, layout=None):
        out = {"name": d["name"], "shape": [int(x) for x in d["shape"]], "dtype": np.dtype(d["dtype"]).name}
        if layout:
            out["layout"] = layout
        return out

    inputs = [describe(d, "NHWC" if len(d["shape"]) == 4 else None) for d in interp.get_input_details()]
    outputs = [describe(d) for d in interp.get_output_details()]
    return inputs, outputs, dict(sorted(ops.items()))
