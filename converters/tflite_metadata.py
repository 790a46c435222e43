"""TFLite metadata for the TFLite Task Library (ImageClassifier, ImageSegmenter): normalization, labels.

The writers come from tflite-support 0.4.4, which pins protobuf<4 and cannot share the main venv with
TensorFlow 2.21. Its metadata writers are pure Python over flatbuffers, so setup installs the wheel
without dependencies into .venv/extras/tflite_support and only this child process puts it on sys.path,
importing `tensorflow_lite_support.metadata...` directly (the `tflite_support` package's __init__
imports the Task API, which needs the old protobuf).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

EXTRAS = Path(__file__).resolve().parent.parent / ".venv" / "extras" / "tflite_support"


def available() -> bool:
    return (EXTRAS / "tensorflow_lite_support").is_dir()


def child_write_metadata(model_in: str, model_out: str, kind: str, mean: list, std: list, labels_file: str) -> dict:
    sys.path.insert(0, str(EXTRAS))
    from tensorflow_lite_support.metadata.python import metadata as _metadata
    from tensorflow_lite_support.metadata.python.metadata_writers import (image_classifier, image_segmenter,
                                                                         writer_utils)

    writer_cls = {"image_classifier": image_classifier, "image_segmenter": image_segmenter}[kind].MetadataWriter
    writer = writer_cls.create_for_inference(writer_utils.load_file(model_in), mean, std, [labels_file])
    writer_utils.save_file(writer.populate(), model_out)
    shown = _metadata.MetadataDisplayer.with_model_file(model_out)
    return {"metadata": json.loads(shown.get_metadata_json()), "associated_files": shown.get_packed_associated_file_list()}
