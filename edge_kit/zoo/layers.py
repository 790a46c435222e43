"""Building blocks shared by the zoo's networks.

Only ops that Paddle-Lite 2.13 and paddle2onnx both know are used: conv2d (incl. depthwise),
batch_norm, relu / relu6 / hardswish / hardsigmoid, pool2d, elementwise add/mul, reshape/transpose.
"""
from __future__ import annotations

import paddle.nn as nn
import paddle.nn.functional as F


def make_act(act: str | None) -> nn.Layer | None:
    if act is None:
        return None
    table = {"relu": nn.ReLU, "relu6": nn.ReLU6, "hardswish": nn.Hardswish}
    if act not in table:
        raise ValueError(f"unknown activation {act!r}")
    return table[act]()


class ConvBN(nn.Layer):
    """Conv2D (no bias: the BN's shift replaces it) -> BatchNorm2D -> optional activation."""

    def __init__(self, in_c: int, out_c: int, kernel: int, stride: int = 1, groups: int = 1,
                 act: str | None = None, padding: int | None = None, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv2D(in_c, out_c, kernel, stride=stride,
                              padding=(kernel - 1) // 2 * dilation if padding is None else padding,
                              dilation=dilation, groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(out_c)
        self.act = make_act(act)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return x if self.act is None else self.act(x)


class Hardsigmoid(nn.Layer):
    """hardsigmoid(slope=0.2, offset=0.5) as PaddleClas's SE blocks use it.

    nn.Hardsigmoid fixes slope to 1/6; the functional form keeps the MobileNetV3 slope, and the
    exported `hard_sigmoid` op carries it as an attribute.
    """

    def __init__(self, slope: float = 0.2, offset: float = 0.5):
        super().__init__()
        self.slope, self.offset = slope, offset

    def forward(self, x):
        return F.hardsigmoid(x, slope=self.slope, offset=self.offset)


class SEModule(nn.Layer):
    """Squeeze-and-excitation: global pool -> 1x1 conv -> relu -> 1x1 conv -> hardsigmoid -> scale."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.conv1 = nn.Conv2D(channels, channels // reduction, 1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2D(channels // reduction, channels, 1)
        self.hardsigmoid = Hardsigmoid(0.2, 0.5)

    def forward(self, x):
        gate = self.hardsigmoid(self.conv2(self.relu(self.conv1(self.avg_pool(x)))))
        # The operator, not paddle.multiply: under the legacy IR (FLAGS_enable_pir_api=0, needed for
        # Lite's .pdmodel) paddle.multiply in Paddle 3.3 rejects static Variables.
        return x * gate


class ClassifierHead(nn.Layer):
    """Global average pool -> flatten -> Linear: logits, no softmax."""

    def __init__(self, in_c: int, num_classes: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.flatten = nn.Flatten(start_axis=1, stop_axis=-1)
        self.fc = nn.Linear(in_c, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(x)))
