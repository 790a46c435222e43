"""Which graph of a model each artifact format carries, and what post-processing it implies.

Detectors and segmenters exist in two graphs:
  deploy  post-processing inside the graph, as Paddle-Lite demo apps expect: YOLO box decoding +
          multiclass NMS giving [N,6] (class, score, x1, y1, x2, y2); an argmax label map.
  raw     the network's tensors (YOLO heads, segmentation logits): what TFLite and ONNX runtimes run
          well; edgekit's host-side post-processing (edge_kit.postprocess) turns them into results.
Classifiers have one graph (logits) used everywhere.
"""
from __future__ import annotations

from edge_kit import formats

DENSE_TASKS = ("detection", "semantic_segmentation")
FORMAT_GRAPH = {f.name: f.graph for f in formats.FORMATS}


def graphs_for(task: str, kind: str) -> dict[str, dict]:
    """graph name -> builder kwargs. User-supplied models are converted as given (one graph)."""
    if kind == "zoo" and task in DENSE_TASKS:
        return {"deploy": {"postprocess": True}, "raw": {"postprocess": False}}
    return {"deploy": {}}


def graph_for_format(fmt: str, graphs: dict) -> str:
    graph = FORMAT_GRAPH.get(fmt, "raw")
    return graph if graph in graphs else "deploy"


def postprocess_description(task: str, graph: str) -> dict:
    """Recorded in manifests: what an app must do with the outputs."""
    if task == "classification":
        return {"in_graph": None, "outputs": "logits [1,1000]", "host": "softmax if probabilities are wanted; top-k"}
    if task == "detection":
        from edge_kit.postprocess import COCO_YOLO

        if graph == "deploy":
            return {"in_graph": "yolo_box per level + multiclass_nms3",
                    "outputs": "[N,6] rows: class, score, x1, y1, x2, y2 in input pixels", **COCO_YOLO.as_dict()}
        return {"in_graph": None, "outputs": "3 raw YOLO heads [1, 3*(5+80), H, W] (NHWC in TFLite)",
                "host": "edge_kit.postprocess.yolo_postprocess: sigmoid/exp decode with the anchors, then per-class NMS",
                **COCO_YOLO.as_dict()}
    if task == "semantic_segmentation":
        if graph == "deploy":
            return {"in_graph": "bilinear resize to the input + argmax", "outputs": "label map int32 [1,H,W]"}
        return {"in_graph": None, "outputs": "logits [1,19,H,W] (NHWC in TFLite)",
                "host": "argmax over the class axis (edge_kit.postprocess.label_map)"}
    return {"in_graph": "as exported by the user", "outputs": "as exported"}
