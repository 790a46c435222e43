"""The TFLite Task Library's vision APIs (github.com/tensorflow/tflite-support @ dd3362e), as their C++
reads a model: normalization and labels from metadata, the output tensor as the API interprets it.
"""
from __future__ import annotations


import numpy as np

from edge_kit.apps.contract import Contract, ContractBreak, Shown, Term, nchw, resize_bilinear

REPO = "tensorflow/tflite-support"
COMMIT = "dd3362ea685bb7ab1f7268c81ec567d3b720ae57"
MW = "tensorflow_lite_support/metadata/python/metadata_writers"
CC = "tensorflow_lite_support/cc/task"


class _Task(Contract):
    repo, commit, runtime = REPO, COMMIT, "tflite"
    app_dir = "tensorflow_lite_support"
    kind = ""

    def src(self, path, line):
        return f"{path}:{line}"

    def asset_paths(self, model_dir, label_file):
        return {"model": f"app/src/main/assets/{model_dir}.tflite"}

    @staticmethod
    def normalization(info: dict) -> tuple[np.ndarray, np.ndarray]:
        """mean/std as the metadata's NormalizationOptions give them (pixel units)."""
        for unit in info["metadata"]["subgraph_metadata"][0]["input_tensor_metadata"][0].get("process_units", []):
            if unit.get("options_type") == "NormalizationOptions":
                return np.float32(unit["options"]["mean"]), np.float32(unit["options"]["std"])
        return np.float32([0.0]), np.float32([1.0])

    def preprocess(self, image, info):
        """ImagePreprocessor: resize the frame to the input tensor, then (p - mean) / std (float input)."""
        _, _, h, w = info["input_shape"]
        mean, std = self.normalization(info)
        return nchw((resize_bilinear(image, h, w).astype(np.float32) - mean) / std)


class TaskImageClassifier(_Task):
    name = "tflite-task-classifier"
    title = "TFLite Task Library ImageClassifier"
    task = "classification"
    kind = "image_classifier"
    terms = (
        Term("metadata output", "tensor 'probability': 'Probabilities of the labels respectively.'",
             f"{MW}/image_classifier.py:29-30"),
        Term("output", "float32 or uint8 scores, used as given (optional score calibration), sorted, top max_results",
             f"{CC}/processor/classification_postprocessor.cc:131-136,212-214"),
        Term("input", "frame resized to the input tensor; float input normalised (p - mean) / std with the "
             "metadata's NormalizationOptions (pixel units)", f"{CC}/processor/image_preprocessor.cc:158-184"),
        Term("labels", "the associated TENSOR_AXIS_LABELS file, one label per line", f"{MW}/image_classifier.py:130-132"),
    )

    def app_graph(self, source):
        return {"kind": "classifier", "softmax": True}

    def replay(self, bundle, info, image, run):
        scores = run([self.preprocess(image, info)])[0].ravel()
        if scores.dtype != np.float32:
            raise ContractBreak(f"output is {scores.dtype}; ImageClassifier takes float32/uint8 scores")
        labels = info["labels_text"].splitlines()
        order = np.argsort(-scores, kind="stable")[:3]
        return Shown("topk", [(labels[i], float(scores[i])) for i in order])


class TaskImageSegmenter(_Task):
    name = "tflite-task-segmenter"
    title = "TFLite Task Library ImageSegmenter"
    task = "semantic_segmentation"
    kind = "image_segmenter"
    terms = (
        Term("metadata output", "'segmentation_masks'", f"{MW}/image_segmenter.py:29-30"),
        Term("category mask", "per pixel: class_index = 0, max_confidence = 0.0; a class wins only if its "
             "confidence > max: raw logits <= 0 everywhere give class 0, so the output must be positive "
             "(probabilities)", f"{CC}/vision/image_segmenter.cc:390-401"),
        Term("input", "frame resized to the input tensor, (p - mean) / std from metadata",
             f"{CC}/processor/image_preprocessor.cc:158-184"),
    )

    def app_graph(self, source):
        return {"kind": "segmenter", "channel_softmax": True}

    def replay(self, bundle, info, image, run):
        out = run([self.preprocess(image, info)])[0]
        if out.ndim != 4:
            raise ContractBreak(f"output has shape {out.shape}; ImageSegmenter needs [1, H, W, classes]")
        conf = out[0] if out.shape[-1] == info["num_classes"] else out[0].transpose(1, 2, 0)
        mask = np.zeros(conf.shape[:2], np.int64)
        best = np.zeros(conf.shape[:2], np.float32)
        for d in range(conf.shape[-1]):                 # image_segmenter.cc: strict '>' against 0.0 start
            win = conf[..., d] > best
            mask[win], best[win] = d, conf[..., d][win]
        return Shown("mask", mask=mask)


class TaskObjectDetector(_Task):
    name = "tflite-task-detector"
    title = "TFLite Task Library ObjectDetector"
    task = "detection"
    terms = (
        Term("outputs", "exactly 4 output tensors (locations, classes, scores, count) as TFLite_Detection_PostProcess "
             "writes them", f"{CC}/vision/object_detector.cc:64-70,200-214"),
    )

    def refuse(self, source):
        why = super().refuse(source)
        return why or ("the Task Library ObjectDetector needs SSD-style TFLite_Detection_PostProcess outputs "
                       f"({CC}/vision/object_detector.cc:200-214); edgekit's YOLO TFLite carries 3 raw heads and "
                       "YOLO's decode + per-class NMS is not that op (no parity can be shown): use the "
                       "Paddle-Lite .nb, or the TFLite with edgekit's host post-processing")
