"""MobileNetV1 as YOLOv3's backbone (PaddleDetection backbones/mobilenet_v1.py, scale 1.0).

Only the convolutional trunk: the detector reads the stride-8/16/32 outputs (256, 512, 1024
channels; PaddleDetection's feature_maps [4, 6, 13]) and has no classifier.
"""
from __future__ import annotations

import paddle.nn as nn

from edge_kit.zoo.dense_backbones import ConvBNAct

# (out channels, stride) of the 13 depthwise-separable blocks.
_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
           (512, 1), (512, 1), (1024, 2), (1024, 1)]
_OUT_INDEX = (4, 10, 12)


class MobileNetV1Features(nn.Layer):
    feat_channels = (256, 512, 1024)

    def __init__(self):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, 2, act="relu")
        blocks, cin = [], 32
        for cout, stride in _BLOCKS:
            blocks.append(nn.Sequential(ConvBNAct(cin, cin, 3, stride, groups=cin, act="relu"),
                                        ConvBNAct(cin, cout, 1, act="relu")))
            cin = cout
        self.blocks = nn.LayerList(blocks)

    def forward(self, x):
        x, feats = self.stem(x), []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in _OUT_INDEX:
                feats.append(x)
        return feats
