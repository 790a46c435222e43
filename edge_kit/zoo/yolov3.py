"""YOLOv3 with MobileNetV1 / MobileNetV3-large backbones (PaddleDetection's yolov3_mobilenet_v*
configs): backbone -> YOLOv3FPN (three YoloDetBlocks joined by 1x1 route convs and 2x nearest
upsampling) -> one 1x1 head conv per level, 3 anchors x (5 + classes) channels.

With postprocess=True the graph ends the way PaddleDetection exports it for Paddle-Lite: yolo_box per
level, concatenation, and the multiclass_nms3 op, giving [N, 6] rows (class, score, x1, y1, x2, y2) in
pixels of the network input. The decode/NMS settings live in edge_kit.postprocess.yolo so the host-side
numpy version (for ONNX/TFLite artifacts that carry raw heads) uses the very same numbers.
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle import _C_ops
from paddle.base.layer_helper import LayerHelper
from paddle.framework import in_dynamic_or_pir_mode

from edge_kit.postprocess.yolo import YoloConfig, COCO_YOLO
from edge_kit.zoo.dense_backbones import ConvBNAct, MobileNetV3LargeFeatures
from edge_kit.zoo.mobilenet_v1 import MobileNetV1Features


class YoloDetBlock(nn.Layer):
    """Five alternating 1x1/3x3 convs (the 'route', passed to the next level) and a 3x3 'tip'."""

    def __init__(self, cin, channel):
        super().__init__()
        self.body = nn.Sequential(
            ConvBNAct(cin, channel, 1, act="leaky"), ConvBNAct(channel, channel * 2, 3, act="leaky"),
            ConvBNAct(channel * 2, channel, 1, act="leaky"), ConvBNAct(channel, channel * 2, 3, act="leaky"),
            ConvBNAct(channel * 2, channel, 1, act="leaky"))
        self.tip = ConvBNAct(channel, channel * 2, 3, act="leaky")

    def forward(self, x):
        route = self.body(x)
        return route, self.tip(route)


class YOLOv3FPN(nn.Layer):
    def __init__(self, in_channels):
        super().__init__()
        levels = len(in_channels)
        blocks, routes = [], []
        for i in range(levels):
            cin = in_channels[-(i + 1)] + (512 // 2 ** i if i > 0 else 0)
            channel = 64 * 2 ** (levels - i)          # 512, 256, 128
            blocks.append(YoloDetBlock(cin, channel))
            if i < levels - 1:
                routes.append(ConvBNAct(channel, channel // 2, 1, act="leaky"))
        self.blocks, self.routes = nn.LayerList(blocks), nn.LayerList(routes)
        self.out_channels = [64 * 2 ** (levels - i) * 2 for i in range(levels)]   # 1024, 512, 256

    def forward(self, feats):
        outs, route = [], None
        for i, feat in enumerate(feats[::-1]):        # coarsest first
            if i > 0:
                feat = paddle.concat([route, feat], axis=1)
            route, tip = self.blocks[i](feat)
            outs.append(tip)
            if i < len(self.routes):
                # An explicit size, not scale_factor=2: paddle2onnx 2.1 rejects the float-list
                # 'scale' attribute the latter records in a legacy program.
                route = self.routes[i](route)
                route = F.interpolate(route, size=[route.shape[2] * 2, route.shape[3] * 2], mode="nearest")
        return outs


def multiclass_nms(bboxes, scores, cfg: YoloConfig, with_num: bool = False):
    """Paddle's multiclass_nms3 op (no Python API in Paddle 3): eager via _C_ops, and as a legacy
    program op when traced with FLAGS_enable_pir_api=0 so the .pdmodel carries it for Paddle-Lite.
    with_num: also return its NmsRoisNum (int32 [N], rows per image), PaddleDetection's `bbox_num`."""
    args = dict(score_threshold=cfg.score_threshold, nms_top_k=cfg.nms_top_k, keep_top_k=cfg.keep_top_k,
                nms_threshold=cfg.nms_threshold, normalized=False, nms_eta=1.0, background_label=-1)
    if in_dynamic_or_pir_mode():
        out, _, rois_num = _C_ops.multiclass_nms3(bboxes, scores, None, *args.values())
        return (out, rois_num) if with_num else out
    helper = LayerHelper("multiclass_nms3")
    out = helper.create_variable_for_type_inference(dtype=bboxes.dtype)
    index = helper.create_variable_for_type_inference(dtype="int32")
    rois_num = helper.create_variable_for_type_inference(dtype="int32")
    helper.append_op(type="multiclass_nms3", inputs={"BBoxes": bboxes, "Scores": scores},
                     outputs={"Out": out, "Index": index, "NmsRoisNum": rois_num}, attrs=args)
    out.stop_gradient = True
    if with_num:
        rois_num.stop_gradient = True
        return out, rois_num
    return out


class YOLOv3(nn.Layer):
    def __init__(self, backbone, num_classes=80, postprocess=True, cfg: YoloConfig = COCO_YOLO, neck=None):
        super().__init__()
        self.backbone, self.num_classes, self.postprocess, self.cfg = backbone, num_classes, postprocess, cfg
        self.neck = YOLOv3FPN(backbone.feat_channels[-3:]) if neck is None else neck
        self.heads = nn.LayerList([nn.Conv2D(c, len(m) * (5 + num_classes), 1)
                                   for c, m in zip(self.neck.out_channels, cfg.masks)])

    def after_init(self, calib):
        """Called by build_model after generic init: see calibrate_objectness."""
        calibrate_objectness(self, calib)

    def raw_heads(self, image):
        """The heads' raw outputs, coarsest level first: [N, A*(5+C), H, W] each."""
        feats = self.backbone(image)[-3:]
        return [head(f) for head, f in zip(self.heads, self.neck(feats))]

    def forward(self, image):
        raw = self.raw_heads(image)
        if not self.postprocess:
            return raw
        h, w = image.shape[2], image.shape[3]
        # The network input is already the resized image, so boxes come out in its pixels; a constant
        # keeps the exported program single-input, as the Paddle-Lite demo apps feed it.
        # (Batches > 1 return every image's rows concatenated, as multiclass_nms3 does.)
        # fill_constant, not to_tensor: Paddle 3 writes assign_value's values as an attribute type
        # Paddle-Lite 2.13 and paddle2onnx cannot parse.
        n = max(image.shape[0], 1)
        img_size = paddle.concat([paddle.full([n, 1], h, "int32"), paddle.full([n, 1], w, "int32")], axis=1)
        return decode_and_nms(raw, img_size, self.cfg, self.num_classes)


def decode_and_nms(raw, img_hw, cfg, num_classes: int, with_num: bool = False):
    """The in-graph post-processing: yolo_box per level (img_hw: [N, 2] int32 height, width), then
    multiclass_nms3. Also the YOLO and PicoDet demo apps' graphs (edge_kit.apps.graph), with the size an
    input (with_num: also the per-image row count, as PaddleDetection's `bbox_num` output)."""
    boxes, scores = [], []
    for level, x in enumerate(raw):
        anchors = [v for m in cfg.masks[level] for v in cfg.anchors[m]]
        b, s = paddle.vision.ops.yolo_box(x, img_hw, anchors, num_classes, cfg.conf_thresh,
                                          cfg.downsample[level], clip_bbox=True, scale_x_y=1.0)
        boxes.append(b)
        scores.append(paddle.transpose(s, [0, 2, 1]))
    return multiclass_nms(paddle.concat(boxes, axis=1), paddle.concat(scores, axis=2), cfg, with_num)


def yolov3_mobilenet_v1(num_classes=80, postprocess=True):
    return YOLOv3(MobileNetV1Features(), num_classes, postprocess)


def yolov3_mobilenet_v3_large(num_classes=80, postprocess=True):
    return YOLOv3(MobileNetV3LargeFeatures(), num_classes, postprocess)


def calibrate_objectness(model: YOLOv3, calib: np.ndarray, positive_fraction=0.01, spread=1.0, class_mean=-4.0,
                         box_std=0.5):
    """Give an untrained detector a detector-like score distribution (call after init_weights).

    Generic init centres every head channel at 0, so every anchor gets objectness 0.5 and NMS
    drowns in near-equal candidates. Trained YOLOs are sparse: here the objectness logits are set
    so only `positive_fraction` of anchors on the calibration images exceed 0 (the prior-probability
    init of detection heads, made data-dependent), and class logits lean negative, so few
    (anchor, class) pairs pass the NMS score threshold and they vary with the image."""
    post, model.postprocess = model.postprocess, False
    try:
        with paddle.no_grad():
            raw = [r.numpy() for r in model(paddle.to_tensor(np.asarray(calib, np.float32)))]
    finally:
        model.postprocess = post
    n_attr = 5 + model.num_classes
    obj = np.concatenate([r.reshape(r.shape[0], -1, n_attr, *r.shape[2:])[:, :, 4].ravel() for r in raw])
    obj_std, obj_q = float(obj.std()) or 1.0, float(np.quantile(obj, 1 - positive_fraction))
    for head, r in zip(model.heads, raw):
        y = r.reshape(r.shape[0], -1, n_attr, *r.shape[2:])
        cls_std = float(y[:, :, 5:].std()) or 1.0
        scale, shift = np.ones(y.shape[1:3]), np.zeros(y.shape[1:3])
        scale[:, 4], shift[:, 4] = spread / obj_std, -obj_q * spread / obj_std
        scale[:, 5:], shift[:, 5:] = spread / cls_std, class_mean
        # Box offsets near 0 keep boxes anchor-sized rather than exp() of a wild logit.
        scale[:, :4] = box_std / (float(y[:, :, :4].std()) or 1.0)
        scale, shift = scale.ravel(), shift.ravel()
        w, b = head.weight.numpy(), head.bias.numpy()
        head.weight.set_value((w * scale[:, None, None, None]).astype(np.float32))
        head.bias.set_value((b * scale + shift).astype(np.float32))
    return model
