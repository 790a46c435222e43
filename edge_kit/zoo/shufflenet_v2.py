"""ShuffleNetV2 x1.0, following PaddleClas's model_zoo/shufflenet_v2.py."""
from __future__ import annotations

import paddle
import paddle.nn as nn

from edge_kit.zoo.layers import ClassifierHead, ConvBN

REPEATS = (4, 8, 4)
CHANNELS = (24, 116, 232, 464, 1024)  # stem, three stages, last 1x1 conv


def channel_shuffle(x, groups: int):
    # reshape -> transpose -> reshape with static sizes: exporters see plain reshape2/transpose2.
    _, c, h, w = x.shape
    x = paddle.reshape(x, [-1, groups, c // groups, h, w])
    x = paddle.transpose(x, [0, 2, 1, 3, 4])
    return paddle.reshape(x, [-1, c, h, w])


class ShuffleUnit(nn.Layer):
    """Stride 1: split channels in half, transform one half, concat, shuffle."""

    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        self.half = half
        self.conv_pw = ConvBN(half, half, 1, act="relu")
        self.conv_dw = ConvBN(half, half, 3, groups=half)
        self.conv_linear = ConvBN(half, half, 1, act="relu")

    def forward(self, x):
        x1, x2 = paddle.split(x, [self.half, self.half], axis=1)
        x2 = self.conv_linear(self.conv_dw(self.conv_pw(x2)))
        return channel_shuffle(paddle.concat([x1, x2], axis=1), 2)


class ShuffleDownUnit(nn.Layer):
    """Stride 2: two branches over the whole input, each giving half the output channels."""

    def __init__(self, in_c: int, out_c: int):
        super().__init__()
        half = out_c // 2
        self.conv_dw_1 = ConvBN(in_c, in_c, 3, stride=2, groups=in_c)
        self.conv_linear_1 = ConvBN(in_c, half, 1, act="relu")
        self.conv_pw_2 = ConvBN(in_c, half, 1, act="relu")
        self.conv_dw_2 = ConvBN(half, half, 3, stride=2, groups=half)
        self.conv_linear_2 = ConvBN(half, half, 1, act="relu")

    def forward(self, x):
        x1 = self.conv_linear_1(self.conv_dw_1(x))
        x2 = self.conv_linear_2(self.conv_dw_2(self.conv_pw_2(x)))
        return channel_shuffle(paddle.concat([x1, x2], axis=1), 2)


class ShuffleNetV2(nn.Layer):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = ConvBN(3, CHANNELS[0], 3, stride=2, act="relu")
        self.max_pool = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)
        blocks, in_c = [], CHANNELS[0]
        for repeats, out_c in zip(REPEATS, CHANNELS[1:4]):
            blocks.append(ShuffleDownUnit(in_c, out_c))
            blocks += [ShuffleUnit(out_c) for _ in range(repeats - 1)]
            in_c = out_c
        self.blocks = nn.Sequential(*blocks)
        self.last_conv = ConvBN(in_c, CHANNELS[4], 1, act="relu")
        self.head = ClassifierHead(CHANNELS[4], num_classes)

    def forward(self, x):
        x = self.blocks(self.max_pool(self.conv1(x)))
        return self.head(self.last_conv(x))


def shufflenet_v2(num_classes: int = 1000) -> ShuffleNetV2:
    return ShuffleNetV2(num_classes)
