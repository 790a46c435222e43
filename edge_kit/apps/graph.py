"""A zoo network adapted to what an app feeds and reads (built in the export child, traced to a legacy
program like every zoo graph):

  bgr_input   the app feeds B,G,R (Paddle-Lite-Demo's C++ cvtColor on RGBA frames): flip to R,G,B first
  pixel_norm  the app feeds 0-255 pixels and cannot normalise (Java segmentation): (x*scale - mean)/std
              as the graph's first ops, constants held as parameters (Paddle 3's assign_value
              attributes are unreadable by Paddle-Lite 2.13)
  softmax     classifiers whose apps show the output as scores/probabilities
  channel_softmax  per-pixel probabilities (the Task Library's segmenter argmax starts from 0.0)
  label_dtype int64 label maps for apps that read data<int64_t>() / getLongData()
  kind=yolo   a second input im_size int32 [1,2] = (width, height) feeding yolo_box, as the YOLO demo does
  im_size_hw  (kind=yolo) im_size is already (height, width), as the PaddleX SDK feeds the original size
  score_output  (segmenters) a second output: per-pixel softmax [N,C,H,W] beside the label map (PaddleX SDK)
  kind=picodet  PaddleDetection's export contract, as the PicoDet demo feeds and reads it: a second input
              scale_factor float32 [1,2] = (input_h / frame_h, input_w / frame_w); boxes come out in the
              camera frame's pixels (yolo_box decodes to input size / scale_factor, as PaddleDetection's
              YOLOBox does) and a second output bbox_num int32 [1]
The weights are the zoo model's own (built and calibrated exactly as for the standard graph), so the
adapted graph differs from the standard one only by these ops.
"""
from __future__ import annotations

import hashlib
from pathlib import Path


def code_hash() -> str:
    """Part of every adapted graph's cache key: a change here re-exports."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def base_kwargs(app_graph: dict) -> dict:
    """Build kwargs of the zoo network under the adaptation."""
    return {"postprocess": False} if app_graph.get("kind") in ("segmenter", "yolo", "picodet") else {}


def input_specs(app_graph: dict, shape: list):
    """The exported program's inputs: the image, and for the YOLO demo its im_size (int32 [1,2]), for the
    PicoDet demo its scale_factor (float32 [1,2])."""
    import paddle

    specs = [paddle.static.InputSpec(shape, "float32", "image")]
    if app_graph.get("kind") == "yolo":
        specs.append(paddle.static.InputSpec([shape[0], 2], "int32", "im_size"))
    if app_graph.get("kind") == "picodet":
        specs.append(paddle.static.InputSpec([shape[0], 2], "float32", "scale_factor"))
    return specs


def wrap(net, app_graph: dict):
    import numpy as np
    import paddle
    import paddle.nn as nn
    import paddle.nn.functional as F

    class AppGraph(nn.Layer):
        def __init__(self):
            super().__init__()
            self.net, self.cfg = net, app_graph
            norm = app_graph.get("pixel_norm")
            if norm:
                mean, std = np.asarray(norm["mean"], np.float32), np.asarray(norm["std"], np.float32)
                mul = (norm["scale"] / std).reshape(1, -1, 1, 1)
                add = (-mean / std).reshape(1, -1, 1, 1)
                self.mul = self.create_parameter(list(mul.shape), default_initializer=nn.initializer.Assign(mul))
                self.add = self.create_parameter(list(add.shape), default_initializer=nn.initializer.Assign(add))

        def forward(self, image, extra=None):
            x = image
            if self.cfg.get("bgr_input"):
                x = paddle.concat([x[:, 2:3], x[:, 1:2], x[:, 0:1]], axis=1)
            if self.cfg.get("pixel_norm"):
                x = x * self.mul + self.add
            if self.cfg.get("kind") == "yolo":
                return _yolo_deploy(self.net, self.net(x), extra, bool(self.cfg.get("im_size_hw")))
            if self.cfg.get("kind") == "picodet":
                return _picodet_deploy(self.net, self.net(x), extra, image.shape[2], image.shape[3])
            y = self.net(x)
            if self.cfg.get("softmax"):
                y = F.softmax(y, axis=-1)
            if self.cfg.get("channel_softmax"):       # per-pixel class probabilities, NCHW
                y = F.softmax(y, axis=1)
            if self.cfg.get("label_dtype"):
                label = _argmax(y, 1, self.cfg["label_dtype"])
                if self.cfg.get("score_output"):
                    return label, F.softmax(y, axis=1)
                return label
            return y

    layer = AppGraph()
    layer.eval()
    layer.edgekit_weights = getattr(net, "edgekit_weights", "unknown")
    return layer


def _yolo_deploy(net, raw, im_size, im_size_hw: bool = False):
    """edge_kit.zoo.yolov3's in-graph decode + NMS, with the image size an input: the YOLO demo fills
    GetInput(1) with {width, height} (Pipeline.cc:83-87); yolo_box's ImgSize is (height, width)."""
    import paddle

    from edge_kit.zoo.yolov3 import decode_and_nms

    if im_size_hw:   # the PaddleX SDK feeds {height, width} of the original image (Predictor.java:97-101)
        hw = im_size
    else:
        hw = paddle.concat([im_size[:, 1:2], im_size[:, 0:1]], axis=1)
    return decode_and_nms(raw, hw, net.cfg, net.num_classes)


def _picodet_deploy(net, raw, scale_factor, h: int, w: int):
    """The PicoDet demo's contract on edgekit's YOLOv3: the frame size is (h, w) / scale_factor (the demo
    fills scale_factor = {in_h / rows, in_w / cols}, Pipeline.cc:68-74), as PaddleDetection's YOLOBox
    computes it (ppdet/modeling/layers.py: cast(im_shape / scale_factor, int32)), so yolo_box decodes
    straight into frame pixels and clips to the frame; outputs (boxes [N,6], bbox_num int32 [1]) in the
    order the demo reads them (Pipeline.cc:92-99). One difference: +0.5 before the truncating cast, so a
    quotient such as 1215.9999 (float 608 / (608/1216)) gives 1216, not 1215. The constant size is
    fill_constant, as in the zoo graph (Paddle-Lite 2.13 cannot read Paddle 3's assign_value)."""
    import paddle

    from edge_kit.zoo.yolov3 import decode_and_nms

    n = max(scale_factor.shape[0], 1)
    size = paddle.concat([paddle.full([n, 1], h, "float32"), paddle.full([n, 1], w, "float32")], axis=1)
    frame_hw = paddle.cast(size / scale_factor + 0.5, "int32")
    return decode_and_nms(raw, frame_hw, net.cfg, net.num_classes, with_num=True)


def _argmax(x, axis: int, dtype: str):
    """arg_max appended as a legacy op (Paddle 3.3's paddle.argmax calls a PIR-only op when traced)."""
    import paddle
    from paddle.base.layer_helper import LayerHelper
    from paddle.framework import in_dynamic_or_pir_mode

    if in_dynamic_or_pir_mode():
        return paddle.argmax(x, axis=axis, dtype=dtype)
    helper = LayerHelper("arg_max")
    out = helper.create_variable_for_type_inference(dtype)
    vt = {"int64": paddle.base.core.VarDesc.VarType.INT64, "int32": paddle.base.core.VarDesc.VarType.INT32}[dtype]
    helper.append_op(type="arg_max", inputs={"X": x}, outputs={"Out": [out]},
                     attrs={"axis": axis, "keepdims": False, "flatten": False, "dtype": int(vt)})
    out.stop_gradient = True
    return out
