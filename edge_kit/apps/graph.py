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
    return {"postprocess": False} if app_graph.get("kind") in ("segmenter", "yolo") else {}


def input_specs(app_graph: dict, shape: list):
    """The exported program's inputs: the image, and for the YOLO demo its im_size (int32 [1,2])."""
    import paddle

    specs = [paddle.static.InputSpec(shape, "float32", "image")]
    if app_graph.get("kind") == "yolo":
        specs.append(paddle.static.InputSpec([shape[0], 2], "int32", "im_size"))
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

        def forward(self, image, im_size=None):
            x = image
            if self.cfg.get("bgr_input"):
                x = paddle.concat([x[:, 2:3], x[:, 1:2], x[:, 0:1]], axis=1)
            if self.cfg.get("pixel_norm"):
                x = x * self.mul + self.add
            if self.cfg.get("kind") == "yolo":
                return _yolo_deploy(self.net, self.net(x), im_size)
            y = self.net(x)
            if self.cfg.get("softmax"):
                y = F.softmax(y, axis=-1)
            if self.cfg.get("channel_softmax"):       # per-pixel class probabilities, NCHW
                y = F.softmax(y, axis=1)
            if self.cfg.get("label_dtype"):
                y = _argmax(y, 1, self.cfg["label_dtype"])
            return y

    layer = AppGraph()
    layer.eval()
    layer.edgekit_weights = getattr(net, "edgekit_weights", "unknown")
    return layer


def _yolo_deploy(net, raw, im_size):
    """edge_kit.zoo.yolov3's in-graph decode + NMS, with the image size an input: the YOLO demo fills
    GetInput(1) with {width, height} (Pipeline.cc:83-87); yolo_box's ImgSize is (height, width)."""
    import paddle

    from edge_kit.zoo.yolov3 import decode_and_nms

    hw = paddle.concat([im_size[:, 1:2], im_size[:, 0:1]], axis=1)
    return decode_and_nms(raw, hw, net.cfg, net.num_classes)


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
