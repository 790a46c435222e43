"""ONNX -> TFLite (fp32 and fp16 weights) with onnx2tf, NHWC image input, fully offline.

onnx2tf downloads `calibration_image_sample_data_20x128x128x3_float32.npy` from the internet for any
model with a 4-D 3-channel input, int8 or not, and crashes offline; a file of that name in its
working directory is used instead, so the child runs in a scratch directory where we put one made
from edgekit's own natural images.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

CALIBRATION_NAME = "calibration_image_sample_data_20x128x128x3_float32.npy"


def write_calibration_file(workdir: Path) -> Path:
    from edge_kit.images import natural_images

    path = Path(workdir) / CALIBRATION_NAME
    np.save(path, natural_images(20, 128, 128, seed=7).astype(np.float32) / 255.0)
    return path


def child_onnx_to_tflite(onnx_file: str, workdir: str, out_fp32: str, out_fp16: str) -> dict:
    import onnx2tf

    work = Path(workdir)
    write_calibration_file(work)
    saved = work / "saved_model"
    onnx2tf.convert(input_onnx_file_path=onnx_file, output_folder_path=str(saved), non_verbose=True,
                    copy_onnx_input_output_names_to_tflite=True)
    stem = Path(onnx_file).stem
    produced = {"fp32": saved / f"{stem}_float32.tflite", "fp16": saved / f"{stem}_float16.tflite"}
    for precision, dest in (("fp32", out_fp32), ("fp16", out_fp16)):
        if not produced[precision].exists():
            raise RuntimeError(f"onnx2tf produced no {produced[precision].name}")
        shutil.move(str(produced[precision]), dest)
    shutil.rmtree(saved, ignore_errors=True)
    return {"onnx2tf": onnx2tf.__version__}


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
