"""MobileNetV3 small/large (scale 1.0), following PaddleClas's legendary_models/mobilenet_v3.py."""
from __future__ import annotations

import paddle
import paddle.nn as nn

from edge_kit.zoo.layers import ConvBN, SEModule

# Per block: kernel, expanded channels, out channels, SE, activation, stride.
LARGE = [
    (3, 16, 16, False, "relu", 1),
    (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1),
    (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hardswish", 2),
    (3, 200, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1),
    (3, 480, 112, True, "hardswish", 1),
    (3, 672, 112, True, "hardswish", 1),
    (5, 672, 160, True, "hardswish", 2),
    (5, 960, 160, True, "hardswish", 1),
    (5, 960, 160, True, "hardswish", 1),
]
SMALL = [
    (3, 16, 16, True, "relu", 2),
    (3, 72, 24, False, "relu", 2),
    (3, 88, 24, False, "relu", 1),
    (5, 96, 40, True, "hardswish", 2),
    (5, 240, 40, True, "hardswish", 1),
    (5, 240, 40, True, "hardswish", 1),
    (5, 120, 48, True, "hardswish", 1),
    (5, 144, 48, True, "hardswish", 1),
    (5, 288, 96, True, "hardswish", 2),
    (5, 576, 96, True, "hardswish", 1),
    (5, 576, 96, True, "hardswish", 1),
]
STEM = 16
LAST_CONV = 1280


class ResidualUnit(nn.Layer):
    """1x1 expand -> kxk depthwise -> optional SE -> 1x1 linear projection (+ identity).
    `dilation` serves the segmentation backbones (DeepLab's output stride)."""

    def __init__(self, in_c, mid_c, out_c, kernel, stride, use_se, act, dilation=1):
        super().__init__()
        self.use_shortcut = stride == 1 and in_c == out_c
        self.expand_conv = ConvBN(in_c, mid_c, 1, act=act)
        self.bottleneck_conv = ConvBN(mid_c, mid_c, kernel, stride=stride, groups=mid_c, act=act, dilation=dilation)
        self.mid_se = SEModule(mid_c) if use_se else None
        self.linear_conv = ConvBN(mid_c, out_c, 1)

    def forward(self, x):
        y = self.bottleneck_conv(self.expand_conv(x))
        if self.mid_se is not None:
            y = self.mid_se(y)
        y = self.linear_conv(y)
        return paddle.add(x, y) if self.use_shortcut else y


class MobileNetV3(nn.Layer):
    def __init__(self, config, class_squeeze: int, num_classes: int = 1000):
        super().__init__()
        self.conv = ConvBN(3, STEM, 3, stride=2, act="hardswish")
        blocks, in_c = [], STEM
        for k, exp, c, se, act, s in config:
            blocks.append(ResidualUnit(in_c, exp, c, k, s, se, act))
            in_c = c
        self.blocks = nn.Sequential(*blocks)
        self.last_second_conv = ConvBN(in_c, class_squeeze, 1, act="hardswish")
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        # A 1x1 conv on the pooled vector, no BN: PaddleClas's head, kept for the parameter count.
        self.last_conv = nn.Conv2D(class_squeeze, LAST_CONV, 1, bias_attr=False)
        self.hardswish = nn.Hardswish()
        # PaddleClas has Dropout(0.2, "downscale_in_infer") here; at inference it is a constant
        # 0.8 scale, which the untrained weights' calibration absorbs, so it is left out.
        self.flatten = nn.Flatten(start_axis=1, stop_axis=-1)
        self.fc = nn.Linear(LAST_CONV, num_classes)

    def forward(self, x):
        x = self.last_second_conv(self.blocks(self.conv(x)))
        x = self.hardswish(self.last_conv(self.avg_pool(x)))
        return self.fc(self.flatten(x))


def mobilenet_v3_small(num_classes: int = 1000) -> MobileNetV3:
    return MobileNetV3(SMALL, class_squeeze=576, num_classes=num_classes)


def mobilenet_v3_large(num_classes: int = 1000) -> MobileNetV3:
    return MobileNetV3(LARGE, class_squeeze=960, num_classes=num_classes)
