"""Android apps edgekit bundles for, each with its contract read from the app's source (see contract.py)."""
from __future__ import annotations

from edge_kit.apps.contract import Contract
from edge_kit.apps.paddlelite_demo import (ClassificationCxx, ClassificationJava, SegmentationCxx, SegmentationJava,
                                          YoloCxx)
from edge_kit.apps.mediapipe_tasks import MediaPipeImageClassifier, MediaPipeImageSegmenter, MediaPipeObjectDetector
from edge_kit.apps.paddlex_sdk import PaddleXClassifier, PaddleXDetector, PaddleXSegmenter
from edge_kit.apps.picodet_demo import PicoDetCxx
from edge_kit.apps.tflite_task import TaskImageClassifier, TaskImageSegmenter, TaskObjectDetector
from edge_kit.errors import EdgekitError

APPS: dict[str, Contract] = {c.name: c for c in (
    ClassificationCxx(), ClassificationJava(), SegmentationCxx(), SegmentationJava(), YoloCxx(), PicoDetCxx(),
    TaskImageClassifier(), TaskImageSegmenter(), TaskObjectDetector(), PaddleXClassifier(), PaddleXSegmenter(),
    PaddleXDetector(),
    MediaPipeImageClassifier(), MediaPipeImageSegmenter(), MediaPipeObjectDetector())}
# The pre-contract names: the C++ Paddle-Lite demo / the Task Library API for the model's task.
ALIASES = {"paddlelite-demo": {"classification": "plite-cls-cxx", "semantic_segmentation": "plite-seg-cxx",
                               "detection": "plite-yolo"},
           "tflite-task": {"classification": "tflite-task-classifier", "semantic_segmentation": "tflite-task-segmenter",
                           "detection": "tflite-task-detector"},
           # "paddlex-sdk" is also the classifier contract's own name (bundles made before keep resolving)
           "paddlex-sdk": {"classification": "paddlex-sdk", "semantic_segmentation": "paddlex-sdk-segmenter",
                           "detection": "paddlex-sdk-detector"},
           "mediapipe": {"classification": "mediapipe-classifier", "semantic_segmentation": "mediapipe-segmenter",
                         "detection": "mediapipe-detector"}}
APP_NAMES = tuple(APPS) + tuple(a for a in ALIASES if a not in APPS)


def resolve_app(app: str, task: str) -> Contract:
    if app in ALIASES:
        name = ALIASES[app].get(task)
        if name is None:
            raise EdgekitError(f"--app {app} has no app for {task} models (apps: {', '.join(APPS)})")
        return APPS[name]
    if app not in APPS:
        raise EdgekitError(f"unknown app {app!r}; choose from {', '.join(APP_NAMES)}")
    return APPS[app]
