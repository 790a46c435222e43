"""PP-YOLO (PaddleDetection configs/ppyolo/ppyolo_r50vd_dcn_1x_coco.yml): ResNet50_vd with deformable conv v2
in the last stage -> PPYOLOFPN (CoordConv, SPP) -> YOLOv3 head with IoU-aware objectness, 3 anchors per level,
80 classes, 608x608. Read from PaddleDetection's ppdet/modeling/backbones/resnet.py (ConvNormLayer with
dcn_v2, BottleNeck, variant d, dcn_v2_stages [3], return_idx [1, 2, 3]), necks/yolo_fpn.py (PPYOLOFPN with
coord_conv, spp, conv_block_num 2; add_coord; SPP pools 5/9/13) and heads/yolo_head.py (YOLOv3Head with
iou_aware, iou_aware_factor 0.4).

What differs from PaddleDetection's inference graph, and why:
  * DropBlock is training-only (an identity at inference): left out.
  * The head's `yolo_output` conv of 3*(6+C) channels is held as two 1x1 convs on the same input, 3 IoU
    channels (`iou_heads`) and 3*(5+C) YOLO channels (`heads`): the same parameters and outputs, so that
    edgekit's objectness calibration of untrained weights (yolov3.calibrate_objectness) applies to the YOLO
    part as for the other YOLOs.
  * Post-processing: PaddleDetection decodes with scale_x_y 1.05 and Matrix NMS. edgekit's PPYOLO keeps
    the YOLOv3 post-processing every edgekit YOLO has (yolo_box with scale_x_y 1.0 + multiclass_nms3 in the
    deploy graph; the same numbers on the host for the raw graph, edge_kit.postprocess.yolo). NMS is on the
    host for ONNX/TensorRT in either case; the network itself (the raw heads) is PP-YOLO's.
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.vision.ops import DeformConv2D

from edge_kit.zoo.dense_backbones import ConvBNAct
from edge_kit.zoo.legacy_ops import unary
from edge_kit.zoo.resnet_vd import DEPTHS, ResNetVd
from edge_kit.zoo.yolov3 import YOLOv3, YOLOv3FPN, calibrate_objectness

IOU_AWARE_FACTOR = 0.4


class DeformConvBN(nn.Layer):
    """PaddleDetection's ConvNormLayer with dcn_v2: a plain conv predicts 2*k*k offsets and k*k mask logits,
    the mask goes through a sigmoid, DeformConv2D (no bias) samples there; BN, ReLU."""

    def __init__(self, cin, cout, k=3, stride=1):
        super().__init__()
        self.k2 = k * k
        self.conv_offset = nn.Conv2D(cin, 3 * k * k, k, stride, (k - 1) // 2)
        self.conv = DeformConv2D(cin, cout, k, stride, (k - 1) // 2, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)

    def forward(self, x):
        offset, mask = paddle.split(self.conv_offset(x), [2 * self.k2, self.k2], axis=1)
        return F.relu(self.bn(self.conv(x, offset, mask=unary("sigmoid", mask))))


class ResNet50vdDCN(ResNetVd):
    """ResNet50_vd (edge_kit.zoo.resnet_vd, the same stem and bottlenecks as PaddleDetection's variant d)
    with DCNv2 in the 3x3 conv of every res5 bottleneck; returns res3, res4, res5 (strides 8, 16, 32)."""

    feat_channels = (512, 1024, 2048)

    def __init__(self):
        super().__init__(50)
        del self.head                                   # a detector backbone: no classifier
        ends = np.cumsum(DEPTHS[50]) - 1                # last block index of each stage: 2, 6, 12, 15
        self.returns = tuple(int(e) for e in ends[1:])
        for i in range(int(ends[2]) + 1, int(ends[3]) + 1):
            self.blocks[i].conv1 = DeformConvBN(512, 512, 3, stride=2 if i == ends[2] + 1 else 1)

    def forward(self, x):
        x, feats = self.max_pool(self.stem(x)), []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.returns:
                feats.append(x)
        return feats


def add_coord(x):
    """PaddleDetection's add_coord, including its precedence: arange(w) / ((w - 1) * 2) - 1 spans [-1, -0.5]."""
    b, h, w = x.shape[0], x.shape[2], x.shape[3]
    gx = paddle.cast(paddle.arange(w) / ((w - 1.) * 2.0) - 1., x.dtype)
    gy = paddle.cast(paddle.arange(h) / ((h - 1.) * 2.0) - 1., x.dtype)
    gx = gx.reshape([1, 1, 1, w]).expand([b, 1, h, w])
    gy = gy.reshape([1, 1, h, 1]).expand([b, 1, h, w])
    return gx, gy


class CoordConv(nn.Layer):
    """The feature map with its x and y coordinates appended as two channels, then conv + BN + LeakyReLU."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = ConvBNAct(cin + 2, cout, k, act="leaky")

    def forward(self, x):
        gx, gy = add_coord(x)
        return self.conv(paddle.concat([x, gx, gy], axis=1))


class SPP(nn.Layer):
    """The input and its 5/9/13 stride-1 max pools concatenated, then a 1x1 conv + BN + LeakyReLU."""

    def __init__(self, cin, cout, pool_sizes=(5, 9, 13)):
        super().__init__()
        self.pools = nn.LayerList([nn.MaxPool2D(k, 1, k // 2) for k in pool_sizes])
        self.conv = ConvBNAct(cin, cout, 1, act="leaky")

    def forward(self, x):
        outs = [x]
        for pool in self.pools:
            outs.append(pool(x))
        return self.conv(paddle.concat(outs, axis=1))


class PPYOLODetBlock(nn.Layer):
    """conv0 (CoordConv 1x1), conv1 (3x3), conv2 (CoordConv 1x1), [SPP], conv3 (3x3), route (CoordConv 1x1)
    -> `route`; tip (CoordConv 3x3) -> the head's input. PaddleDetection's order with conv_block_num 2."""

    def __init__(self, cin, channel, spp):
        super().__init__()
        c = channel
        body = [CoordConv(cin, c, 1), ConvBNAct(c, c * 2, 3, act="leaky"), CoordConv(c * 2, c, 1)]
        if spp:
            body.append(SPP(c * 4, c))
        body += [ConvBNAct(c, c * 2, 3, act="leaky"), CoordConv(c * 2, c, 1)]
        self.body = nn.Sequential(*body)
        self.tip = CoordConv(c, c * 2, 3)

    def forward(self, x):
        route = self.body(x)
        return route, self.tip(route)


class PPYOLOFPN(YOLOv3FPN):
    """YOLOv3's FPN wiring (its forward: coarsest level first, 1x1 transition + 2x upsampling + concat) with
    PP-YOLO's blocks; SPP in the coarsest one."""

    def __init__(self, in_channels=(512, 1024, 2048)):
        nn.Layer.__init__(self)
        levels = len(in_channels)
        blocks, routes = [], []
        for i, cin in enumerate(in_channels[::-1]):
            cin += 512 // 2 ** i if i > 0 else 0
            channel = 64 * 2 ** levels // 2 ** i          # 512, 256, 128
            blocks.append(PPYOLODetBlock(cin, channel, spp=i == 0))
            if i < levels - 1:
                routes.append(ConvBNAct(channel, 256 // 2 ** i, 1, act="leaky"))
        self.blocks, self.routes = nn.LayerList(blocks), nn.LayerList(routes)
        self.out_channels = [64 * 2 ** levels // 2 ** i * 2 for i in range(levels)]   # 1024, 512, 256


def _de_sigmoid(x, eps=1e-7):
    x = paddle.clip(x, eps, 1. / eps)
    x = paddle.clip(1. / x - 1., eps, 1. / eps)
    return -unary("log", x)


def iou_aware(raw, ioup, n_anchor: int, factor: float):
    """YOLOv3Head's inference with iou_aware: objectness := logit(sigmoid(obj)^(1-f) * sigmoid(iou)^f)."""
    b, c, h, w = raw.shape
    x = raw.reshape([b, n_anchor, c // n_anchor, h * w])
    ioup = unary("sigmoid", ioup.reshape([b, n_anchor, 1, h * w]))
    obj = unary("sigmoid", x[:, :, 4:5, :])
    # paddle.pow with a float writes a `pow` op with a factor attribute; `**` writes elementwise_pow of a 0-D
    # fill_constant, which Paddle-Lite 2.13 aborts on ("fill_constant ... no valid out_shape", measured)
    obj = _de_sigmoid(paddle.pow(obj, 1 - factor) * paddle.pow(ioup, factor))
    return paddle.concat([x[:, :, :4, :], obj, x[:, :, 5:, :]], axis=2).reshape([b, c, h, w])


class PPYOLO(YOLOv3):
    def __init__(self, num_classes=80, postprocess=True):
        backbone = ResNet50vdDCN()
        super().__init__(backbone, num_classes, postprocess, neck=PPYOLOFPN(backbone.feat_channels))
        self.iou_heads = nn.LayerList([nn.Conv2D(c, len(m), 1)
                                       for c, m in zip(self.neck.out_channels, self.cfg.masks)])
        self.iou_aware, self.iou_aware_factor = True, IOU_AWARE_FACTOR

    def raw_heads(self, image):
        tips = self.neck(self.backbone(image))
        raw = [head(t) for head, t in zip(self.heads, tips)]
        if not self.iou_aware:
            return raw
        return [iou_aware(r, iou_head(t), len(m), self.iou_aware_factor)
                for r, iou_head, t, m in zip(raw, self.iou_heads, tips, self.cfg.masks)]

    def after_init(self, calib):
        """The objectness prior (yolov3.calibrate_objectness) is set on the YOLO heads' own objectness,
        before the IoU-aware blend, which only lowers it (sigmoid(iou)^0.4 < 1)."""
        self.iou_aware = False
        try:
            calibrate_objectness(self, calib)
        finally:
            self.iou_aware = True


def ppyolo_r50vd_dcn(num_classes=80, postprocess=True):
    return PPYOLO(num_classes, postprocess)
