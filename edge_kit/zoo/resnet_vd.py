"""ResNet50_vd / ResNet101_vd, following PaddleClas's legendary_models/resnet.py.

The "vd" tweaks: a deep stem of three 3x3 convs instead of one 7x7, the stride on the 3x3 conv of
each bottleneck, and in downsampling blocks a shortcut that average-pools 2x2/2 before its 1x1 conv
(instead of a strided 1x1 conv that would drop three quarters of the pixels).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from edge_kit.zoo.layers import ClassifierHead, ConvBN

DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
WIDTHS = (64, 128, 256, 512)  # bottleneck widths; outputs are 4x


class PoolShortcut(nn.Layer):
    """AvgPool2D 2x2 stride 2, then 1x1 conv + BN."""

    def __init__(self, in_c: int, out_c: int):
        super().__init__()
        # PaddleClas sets ceil_mode=True; on the even feature maps of a 224 input it is the
        # same, and ceil_mode=False exports to plainer pool ops for every converter.
        self.pool = nn.AvgPool2D(kernel_size=2, stride=2, padding=0)
        self.conv = ConvBN(in_c, out_c, 1)

    def forward(self, x):
        return self.conv(self.pool(x))


class Bottleneck(nn.Layer):
    def __init__(self, in_c: int, width: int, stride: int, first_in_net: bool, identity: bool):
        super().__init__()
        out_c = width * 4
        self.conv0 = ConvBN(in_c, width, 1, act="relu")
        self.conv1 = ConvBN(width, width, 3, stride=stride, act="relu")
        self.conv2 = ConvBN(width, out_c, 1)
        if identity:
            self.short = None
        elif first_in_net:  # stride 1, only the channel count changes
            self.short = ConvBN(in_c, out_c, 1)
        else:
            self.short = PoolShortcut(in_c, out_c)

    def forward(self, x):
        y = self.conv2(self.conv1(self.conv0(x)))
        short = x if self.short is None else self.short(x)
        return F.relu(paddle.add(short, y))


class ResNetVd(nn.Layer):
    def __init__(self, depth: int, num_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 32, 3, stride=2, act="relu"),
                                  ConvBN(32, 32, 3, act="relu"),
                                  ConvBN(32, 64, 3, act="relu"))
        self.max_pool = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)
        blocks, in_c = [], 64
        for stage, (n, width) in enumerate(zip(DEPTHS[depth], WIDTHS)):
            for i in range(n):
                stride = 2 if i == 0 and stage > 0 else 1
                blocks.append(Bottleneck(in_c, width, stride, first_in_net=stage == 0 and i == 0,
                                         identity=i > 0))
                in_c = width * 4
        self.blocks = nn.Sequential(*blocks)
        self.head = ClassifierHead(in_c, num_classes)

    def forward(self, x):
        return self.head(self.blocks(self.max_pool(self.stem(x))))


def resnet50_vd(num_classes: int = 1000) -> ResNetVd:
    return ResNetVd(50, num_classes)


def resnet101_vd(num_classes: int = 1000) -> ResNetVd:
    return ResNetVd(101, num_classes)
