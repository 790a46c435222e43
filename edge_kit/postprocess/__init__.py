"""Host-side (numpy-only) post-processing of raw network outputs: YOLO decode + NMS, segmentation
label maps, and the task-aware comparisons parity checks use. No Paddle import: runs beside any runtime."""
from edge_kit.postprocess.segmentation import label_map, pixel_agreement
from edge_kit.postprocess.yolo import COCO_YOLO, YoloConfig, match_detections, yolo_decode, yolo_nms, yolo_postprocess

__all__ = ["COCO_YOLO", "YoloConfig", "label_map", "match_detections", "pixel_agreement", "yolo_decode",
           "yolo_nms", "yolo_postprocess"]
