"""MediaPipe Tasks' vision APIs (github.com/google-ai-edge/mediapipe @ 85c0cdc), as their C++ reads a .tflite.

MediaPipe reads the same TFLite Model Metadata as the Task Library, but not the same way:
  * image_preprocessing_graph.cc turns NormalizationOptions into ONE float range for all channels and
    refuses per-channel mean/std ("Per-channel image normalization is not available."): the Task Library
    bundle of an ImageNet classifier (mean/std per channel) does not load. The MediaPipe classifier bundle
    folds the per-channel normalisation into the graph (edge_kit.apps.graph pixel_norm) and its metadata
    says mean 0, std 1 (the graph takes 0-255 pixels).
  * the segmenter's category mask is a true argmax (std::max_element), not the Task Library's argmax from
    0.0, and the activation comes from the SEGMENTER_METADATA custom metadata (NONE when absent): the
    Task Library segmenter file (per-pixel probabilities, one mean/std value per channel, all equal) is
    read correctly as it is, so the same file is bundled.
  * ObjectDetector needs 4 TFLite_Detection_PostProcess outputs or 2 SSD-anchor outputs with a
    DETECTOR_METADATA custom metadata (MediaPipe's own writer, not tflite-support's): refused for YOLO.
mediapipe itself is not installed here (every release on PyPI pulls numpy 2 or protobuf 4, both pinned
otherwise), so the replays below are written from its source; they run on the bundled .tflite.
"""
from __future__ import annotations

import numpy as np

from edge_kit.apps.contract import ContractBreak, Shown, Term, nchw, resize_bilinear
from edge_kit.apps.tflite_task import TaskImageClassifier, TaskImageSegmenter, TaskObjectDetector

REPO = "google-ai-edge/mediapipe"
COMMIT = "85c0cdc7d70653888903c88df45962b764296342"
PROC = "mediapipe/tasks/cc/components/processors"
VISION = "mediapipe/tasks/cc/vision"
PRE_TERMS = (
    Term("input", "float32 input needs NormalizationOptions metadata", f"{VISION}/utils/image_tensor_specs.cc:201-207"),
    Term("normalisation", "ONE range for all channels: [(0 - mean)/std, (255 - mean)/std]; mean/std values that "
         "differ between channels are refused ('Per-channel image normalization is not available.')",
         f"{PROC}/image_preprocessing_graph.cc:84-109"),
)


class _MediaPipe:
    repo, commit = REPO, COMMIT

    def preprocess(self, image, info):
        """ImageToTensorCalculator: frame resized to the tensor, 0-255 mapped linearly onto the one range."""
        mean, std = self.normalization(info)
        if mean.size != std.size or np.unique(mean).size > 1 or np.unique(std).size > 1:
            raise ContractBreak(f"NormalizationOptions mean {mean.tolist()} std {std.tolist()}: MediaPipe refuses "
                                f"per-channel normalisation ({PROC}/image_preprocessing_graph.cc:89-96): the task "
                                "is not created")
        _, _, h, w = info["input_shape"]
        return nchw((resize_bilinear(image, h, w).astype(np.float32) - mean[0]) / std[0])


class MediaPipeImageClassifier(_MediaPipe, TaskImageClassifier):
    name = "mediapipe-classifier"
    title = "MediaPipe Tasks ImageClassifier"
    terms = PRE_TERMS + (
        Term("outputs", "float32 (or all-uint8) score tensors, one per head; scores used as given (score "
             "calibration only if the metadata has it)", f"{PROC}/classification_postprocessing_graph.cc:124-169"),
        Term("labels", "the output's TENSOR_AXIS_LABELS associated file", f"{PROC}/classification_postprocessing_graph.cc:172-190"),
    )

    def app_graph(self, source):
        pre = source.preprocess
        return {"kind": "classifier", "softmax": True,
                "pixel_norm": {"mean": list(pre.mean), "std": list(pre.std), "scale": pre.scale}}

    def app_preprocess(self, source):
        from edge_kit.zoo.registry import Preprocess

        pre = source.preprocess
        return Preprocess(resize=pre.resize, resize_short=None, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                          channel_order="RGB", scale=1.0)


class MediaPipeImageSegmenter(_MediaPipe, TaskImageSegmenter):
    name = "mediapipe-segmenter"
    title = "MediaPipe Tasks ImageSegmenter"
    terms = PRE_TERMS + (
        Term("activation", "from the SEGMENTER_METADATA custom metadata; NONE when absent",
             f"{VISION}/image_segmenter/image_segmenter_graph.cc:184-225"),
        Term("category mask", "argmax by std::max_element over the channels (a single channel: > 0.5)",
             f"{VISION}/image_segmenter/calculators/tensors_to_segmentation_calculator.cc:171-190"),
    )

    def replay(self, bundle, info, image, run):
        out = run([self.preprocess(image, info)])[0]
        if out.ndim != 4:
            raise ContractBreak(f"output has shape {out.shape}; ImageSegmenter needs [1, H, W, classes]")
        conf = out[0] if out.shape[-1] == info["num_classes"] else out[0].transpose(1, 2, 0)
        return Shown("mask", mask=np.argmax(conf, axis=-1).astype(np.int64))   # max_element: first maximum


class MediaPipeObjectDetector(_MediaPipe, TaskObjectDetector):
    name = "mediapipe-detector"
    title = "MediaPipe Tasks ObjectDetector"
    terms = (
        Term("outputs", "4 tensors (TFLite_Detection_PostProcess) or 2 (SSD box + score tensors decoded with "
             "anchors from the DETECTOR_METADATA custom metadata, then MediaPipe's NMS)",
             f"{PROC}/detection_postprocessing_graph.cc:381-387,578-622"),
    )

    def refuse(self, source):
        why = super(TaskObjectDetector, self).refuse(source)
        return why or ("MediaPipe's ObjectDetector takes 4 TFLite_Detection_PostProcess outputs or 2 SSD-anchor "
                       f"outputs with DETECTOR_METADATA ({PROC}/detection_postprocessing_graph.cc:381-387,578-622); "
                       "YOLO's grid decode + per-class multiclass_nms3 is neither, and no parity with MediaPipe's own "
                       "NMS can be shown here (mediapipe is not installable beside the pinned numpy/protobuf)")
