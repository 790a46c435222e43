"""MobileNetV2 (scale 1.0), following PaddleClas's model_zoo/mobilenet_v2.py.

Activations are relu6 (nn.ReLU6). Note: toolchain-facts records that Paddle-Lite 2.13's Opt
rejects relu6 ops exported by newer Paddle (missing `threshold` attribute); that is a converter
compatibility pass's job, the network stays faithful here.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn

from edge_kit.zoo.layers import ClassifierHead, ConvBN

# Per stage: expansion t, out channels c, repeats n, first stride s.
STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class InvertedResidual(nn.Layer):
    def __init__(self, in_c: int, out_c: int, stride: int, expansion: int, shortcut: bool):
        super().__init__()
        mid = int(round(in_c * expansion))
        self.shortcut = shortcut
        # PaddleClas keeps the 1x1 expand conv even when expansion == 1 (first stage).
        self.expand_conv = ConvBN(in_c, mid, 1, act="relu6")
        self.bottleneck_conv = ConvBN(mid, mid, 3, stride=stride, groups=mid, act="relu6")
        self.linear_conv = ConvBN(mid, out_c, 1)

    def forward(self, x):
        y = self.linear_conv(self.bottleneck_conv(self.expand_conv(x)))
        return paddle.add(x, y) if self.shortcut else y


class MobileNetV2(nn.Layer):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = ConvBN(3, 32, 3, stride=2, act="relu6")
        blocks, in_c = [], 32
        for t, c, n, s in STAGES:
            for i in range(n):
                # As in PaddleClas, only repeats (i > 0) add the identity.
                blocks.append(InvertedResidual(in_c, c, s if i == 0 else 1, t, shortcut=i > 0))
                in_c = c
        self.blocks = nn.Sequential(*blocks)
        self.conv9 = ConvBN(in_c, 1280, 1, act="relu6")
        self.head = ClassifierHead(1280, num_classes)

    def forward(self, x):
        return self.head(self.conv9(self.blocks(self.conv1(x))))


def mobilenet_v2(num_classes: int = 1000) -> MobileNetV2:
    return MobileNetV2(num_classes)
