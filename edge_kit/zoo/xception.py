"""Xception65 as PaddleX ships it (paddlex/cv/nets/xception.py: the DeepLab-style Xception).

Why not PaddleClas's model_zoo/xception.py: that variant (two separable convs + max-pool per
entry block, 1536/2048 exit convs) has 36.0 M parameters = 144 MB, 11% under the seed's 161.6 MB.
PaddleX's own classifier, the one the seed measured, uses DeepLab's blocks: three separable convs
per block (depthwise 3x3 + BN, pointwise 1x1 + BN), the stride on the third one, a 1x1 conv + BN
shortcut; entry 128/256/728, middle 16 x 728, exit [728, 1024, 1024] then [1536, 1536, 2048] with
dilation 2 and no shortcut. That gives 40.0 M parameters = 160 MB.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from edge_kit.zoo.layers import ClassifierHead

BN_EPS = 1e-3  # PaddleX's Xception uses eps=1e-3 throughout


class ConvBNx(nn.Layer):
    def __init__(self, in_c, out_c, kernel, stride=1, groups=1, dilation=1, relu=False):
        super().__init__()
        self.conv = nn.Conv2D(in_c, out_c, kernel, stride=stride, padding=(kernel // 2) * dilation,
                              dilation=dilation, groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(out_c, epsilon=BN_EPS)
        self.relu = relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


class SeparableConv(nn.Layer):
    """Depthwise kxk + BN [+ relu], then pointwise 1x1 + BN [+ relu]."""

    def __init__(self, in_c, out_c, stride=1, dilation=1, relu_inside=False):
        super().__init__()
        self.depthwise = ConvBNx(in_c, in_c, 3, stride, groups=in_c, dilation=dilation, relu=relu_inside)
        self.pointwise = ConvBNx(in_c, out_c, 1, relu=relu_inside)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Layer):
    """Three separable convs (stride on the last). skip: "conv" (1x1 + BN), "identity" or None.

    Without relu_inside each separable conv is preceded by a relu (pre-activation), as in DeepLab.
    """

    def __init__(self, in_c, channels, stride, skip="conv", dilation=1, relu_inside=False):
        super().__init__()
        self.relu_inside = relu_inside
        ins = [in_c, channels[0], channels[1]]
        self.seps = nn.LayerList([
            SeparableConv(ins[i], channels[i], stride if i == 2 else 1, dilation, relu_inside)
            for i in range(3)])
        self.skip = skip
        self.shortcut = ConvBNx(in_c, channels[2], 1, stride) if skip == "conv" else None

    def forward(self, x):
        y = x
        for sep in self.seps:
            y = sep(y if self.relu_inside else F.relu(y))
        if self.skip is None:
            return y
        return paddle.add(y, x if self.shortcut is None else self.shortcut(x))


class Xception(nn.Layer):
    def __init__(self, middle_blocks: int = 16, num_classes: int = 1000):
        super().__init__()
        self.entry = nn.Sequential(
            ConvBNx(3, 32, 3, stride=2, relu=True),
            ConvBNx(32, 64, 3, relu=True),
            XceptionBlock(64, [128] * 3, 2),
            XceptionBlock(128, [256] * 3, 2),
            XceptionBlock(256, [728] * 3, 2),
        )
        self.middle = nn.Sequential(*[XceptionBlock(728, [728] * 3, 1, skip="identity")
                                      for _ in range(middle_blocks)])
        # Output stride 32 is reached by exit block 1; block 2 keeps stride 1 with dilation 2.
        self.exit = nn.Sequential(
            XceptionBlock(728, [728, 1024, 1024], 2),
            XceptionBlock(1024, [1536, 1536, 2048], 1, skip=None, dilation=2, relu_inside=True),
        )
        # PaddleX: reduce_mean -> dropout(0.5) -> fc(softmax). fluid's dropout is a constant 0.5
        # scale at inference, which untrained weights' calibration absorbs; softmax is left out
        # because the zoo returns logits.
        self.head = ClassifierHead(2048, num_classes)

    def forward(self, x):
        return self.head(self.exit(self.middle(self.entry(x))))


def xception65(num_classes: int = 1000) -> Xception:
    return Xception(middle_blocks=16, num_classes=num_classes)


class XceptionFeatures(nn.Layer):
    """Xception65's trunk for DeepLabV3+ (PaddleX 1.x deeplabv3p backbone "xception_65"): the classifier's
    entry / middle / exit flows without the head, at output stride 16: exit block 1 keeps stride 1 and
    dilates by 2, exit block 2 by 4 (DeepLab's atrous rule). Returns the stride-4 entry feature (128
    channels, the decoder's low-level input) and the 2048-channel stride-16 feature for ASPP."""

    feat_channels = (128, 2048)

    def __init__(self, middle_blocks: int = 16, output_stride: int = 16):
        super().__init__()
        if output_stride != 16:
            raise ValueError("XceptionFeatures implements output stride 16 only")
        self.stem = nn.Sequential(ConvBNx(3, 32, 3, stride=2, relu=True), ConvBNx(32, 64, 3, relu=True))
        self.entry1 = XceptionBlock(64, [128] * 3, 2)
        self.entry = nn.Sequential(XceptionBlock(128, [256] * 3, 2), XceptionBlock(256, [728] * 3, 2))
        self.middle = nn.Sequential(*[XceptionBlock(728, [728] * 3, 1, skip="identity")
                                      for _ in range(middle_blocks)])
        self.exit = nn.Sequential(
            XceptionBlock(728, [728, 1024, 1024], 1, dilation=2),
            XceptionBlock(1024, [1536, 1536, 2048], 1, skip=None, dilation=4, relu_inside=True),
        )

    def forward(self, x):
        low = self.entry1(self.stem(x))
        return [low, self.exit(self.middle(self.entry(low)))]
