"""ONNX -> full-integer TFLite (int8 weights per channel, int8 activations) with a calibration set.

onnx2tf builds the TensorFlow graph (NHWC, with edgekit's hard-sigmoid rewrite, as for fp32); the
TensorFlow Lite converter then quantizes it with the user's calibration inputs as the representative
dataset: `optimizations=[DEFAULT]` and `supported_ops=[TFLITE_BUILTINS_INT8]` (every op int8, or the
conversion fails rather than silently leaving float ops), per-channel weights (the converter's default
for convolutions). I/O stays float32 unless int8 I/O is asked for; then the input and output
scale/zero-point are read back from the file for the manifest.

onnx2tf's own `-oiqt` would download calibration data without `-cind`; this path never lets it (the
calibration file it looks for is put in its working directory, as for fp32).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def child_onnx_to_tflite_int8(onnx_file: str, workdir: str, calib_npy: str, out_file: str, int8_io: bool,
                              input_shapes: dict | None = None) -> dict:
    import onnx
    import onnx2tf
    import tensorflow as tf

    from converters.onnx_int8_passes import maxpool_pads_explicit
    from converters.tflite import hardsigmoid_as_relu6, require_calibration_file

    work = Path(workdir)
    require_calibration_file(work)  # onnx2tf looks for it even for float conversions; never download
    model = onnx.load(onnx_file)
    passes = {"hardsigmoid_as_relu6": hardsigmoid_as_relu6(model),
              "maxpool_pads_explicit": maxpool_pads_explicit(model)}  # a -inf pad would wreck int8 ranges
    if input_shapes:  # dynamic dims pinned to the verified shape, as for fp32 (else the file takes [1, 1, 1, C])
        from converters.onnx_shapes import specialise

        model, how = specialise(model, input_shapes)
        passes["input_shape_fixed"] = ";".join(f"{k}:{','.join(map(str, v))}" for k, v in input_shapes.items())
        passes["input_shape_fixed_by"] = how
    source = work / Path(onnx_file).name
    onnx.save(model, str(source))
    saved = work / "saved_model"
    onnx2tf.convert(input_onnx_file_path=str(source), output_folder_path=str(saved), non_verbose=True,
                    copy_onnx_input_output_names_to_tflite=True, output_signaturedefs=True)
    source.unlink()
    if not (saved / "saved_model.pb").exists():
        raise RuntimeError("onnx2tf wrote no SavedModel to quantize")
    calib = np.load(calib_npy).astype(np.float32)          # N, C, H, W preprocessed
    nhwc = np.ascontiguousarray(calib.transpose(0, 2, 3, 1))

    def representative():
        for i in range(len(nhwc)):
            yield [nhwc[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    Path(out_file).write_bytes(conv.convert())
    import shutil

    shutil.rmtree(saved, ignore_errors=True)
    return {"onnx2tf": onnx2tf.__version__, "tensorflow": tf.__version__,
            "passes": {k: v for k, v in passes.items() if v}}


def quantization_of(path: Path) -> dict:
    """Input/output dtypes with scale and zero-point (what an app needs to feed int8 I/O), and how many
    tensors are int8 vs float32 in the file."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()

    def io(d):
        scale, zero = d.get("quantization", (0.0, 0))
        out = {"name": d["name"], "dtype": np.dtype(d["dtype"]).name}
        if scale:
            out.update(scale=float(scale), zero_point=int(zero),
                       meaning="real = scale * (q - zero_point)")
        return out

    kinds: dict[str, int] = {}
    per_channel = 0
    for t in interp.get_tensor_details():
        kinds[np.dtype(t["dtype"]).name] = kinds.get(np.dtype(t["dtype"]).name, 0) + 1
        if len(t.get("quantization_parameters", {}).get("scales", [])) > 1:
            per_channel += 1
    return {"inputs": [io(d) for d in interp.get_input_details()],
            "outputs": [io(d) for d in interp.get_output_details()],
            "tensor_dtypes": dict(sorted(kinds.items())), "per_channel_tensors": per_channel}
