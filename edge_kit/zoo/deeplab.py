"""DeepLabV3+ on MobileNetV2 and DeepLabV3 on MobileNetV3-large (PaddleSeg models/deeplab.py and
layers/pyramid_pool.py ASPPModule).

Both run the backbone at output stride 16 (last stage dilated, as PaddleX 1.x did for its MobileNet
DeepLabs) with ASPP rates (1, 6, 12, 18); stride 8 would quadruple the cost of the last stages on a
phone for little gain at 512x512.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from edge_kit.zoo.dense_backbones import (ConvBNAct, MobileNetV2Features, MobileNetV3LargeFeatures,
                                          SegmentationOutput, SeparableConvBNReLU)


class ASPP(nn.Layer):
    """Parallel 1x1 and dilated 3x3 branches plus image pooling, concatenated and projected."""

    def __init__(self, rates, cin, cout, separable):
        super().__init__()
        branches = []
        for r in rates:
            if r == 1:
                branches.append(ConvBNAct(cin, cout, 1))
            elif separable:
                branches.append(SeparableConvBNReLU(cin, cout, 3, dilation=r))
            else:
                branches.append(ConvBNAct(cin, cout, 3, dilation=r))
        self.branches = nn.LayerList(branches)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2D(1), ConvBNAct(cin, cout, 1))
        self.project = ConvBNAct(cout * (len(rates) + 1), cout, 1)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        # Upsampling a 1x1 map is a broadcast; interpolate keeps PaddleSeg's op sequence.
        outs.append(F.interpolate(self.pool(x), size=x.shape[2:], mode="bilinear", align_corners=False))
        return self.dropout(self.project(paddle.concat(outs, axis=1)))


class DeepLabV3PNet(nn.Layer):
    """Backbone -> separable ASPP on the stride-16 features -> decoder joining the stride-4 features."""

    def __init__(self, backbone, num_classes, low_index=0, high_index=3, rates=(1, 6, 12, 18)):
        super().__init__()
        self.backbone, self.low_index, self.high_index = backbone, low_index, high_index
        self.aspp = ASPP(rates, backbone.feat_channels[high_index], 256, separable=True)
        self.low_proj = ConvBNAct(backbone.feat_channels[low_index], 48, 1)
        self.decoder = nn.Sequential(SeparableConvBNReLU(304, 256), SeparableConvBNReLU(256, 256))
        self.cls = nn.Conv2D(256, num_classes, 1)

    def forward(self, x):
        feats = self.backbone(x)
        low = self.low_proj(feats[self.low_index])
        high = F.interpolate(self.aspp(feats[self.high_index]), size=low.shape[2:], mode="bilinear",
                             align_corners=False)
        return self.cls(self.decoder(paddle.concat([high, low], axis=1)))


class DeepLabV3Net(nn.Layer):
    """Backbone -> ASPP (plain 3x3 atrous convs, PaddleSeg's DeepLabV3Head) -> 1x1 classifier."""

    def __init__(self, backbone, num_classes, index=3, rates=(1, 6, 12, 18)):
        super().__init__()
        self.backbone, self.index = backbone, index
        self.aspp = ASPP(rates, backbone.feat_channels[index], 256, separable=False)
        self.cls = nn.Conv2D(256, num_classes, 1)

    def forward(self, x):
        return self.cls(self.aspp(self.backbone(x)[self.index]))


def deeplabv3p_mobilenetv2(num_classes=19, postprocess=True):
    return SegmentationOutput(DeepLabV3PNet(MobileNetV2Features(output_stride=16), num_classes), postprocess)


def deeplabv3_mobilenetv3_large(num_classes=19, postprocess=True):
    return SegmentationOutput(DeepLabV3Net(MobileNetV3LargeFeatures(output_stride=16), num_classes), postprocess)


def deeplabv3p_xception65(num_classes=19, postprocess=True):
    from edge_kit.zoo.xception import XceptionFeatures

    return SegmentationOutput(DeepLabV3PNet(XceptionFeatures(output_stride=16), num_classes, low_index=0,
                                            high_index=1), postprocess)
