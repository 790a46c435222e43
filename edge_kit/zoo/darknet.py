"""DarkNet53 as YOLOv3's backbone (PaddleDetection backbones/darknet.py, depth 53) and YOLOv3-DarkNet53.

A 3x3 stem (32) then five stages, each a stride-2 3x3 conv doubling the channels (64 ... 1024) followed
by 1 / 2 / 8 / 8 / 4 residual blocks (1x1 to half the channels, 3x3 back, add); every conv is
conv + BN + LeakyReLU(0.1). The detector reads the last three stages (256, 512, 1024 channels at strides
8, 16, 32) into the same YOLOv3 FPN and heads as the MobileNet variants.
"""
from __future__ import annotations

import paddle.nn as nn

from edge_kit.zoo.dense_backbones import ConvBNAct

_STAGES = (1, 2, 8, 8, 4)


class BasicBlock(nn.Layer):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(channels, channels // 2, 1, act="leaky"),
                                  ConvBNAct(channels // 2, channels, 3, act="leaky"))

    def forward(self, x):
        return x + self.body(x)


class DarkNet53Features(nn.Layer):
    feat_channels = (256, 512, 1024)

    def __init__(self):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, act="leaky")
        stages, cin = [], 32
        for i, n in enumerate(_STAGES):
            cout = 64 * 2 ** i
            stages.append(nn.Sequential(ConvBNAct(cin, cout, 3, 2, act="leaky"),
                                        *[BasicBlock(cout) for _ in range(n)]))
            cin = cout
        self.stages = nn.LayerList(stages)

    def forward(self, x):
        x, feats = self.stem(x), []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i >= 2:
                feats.append(x)
        return feats


def yolov3_darknet53(num_classes=80, postprocess=True):
    from edge_kit.zoo.yolov3 import YOLOv3

    return YOLOv3(DarkNet53Features(), num_classes, postprocess)
