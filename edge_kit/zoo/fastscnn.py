"""Fast-SCNN (PaddleSeg models/fast_scnn.py): a shallow learning-to-downsample path at 1/8, a global
feature extractor (inverted residuals + pyramid pooling) at 1/32, fused and classified at 1/8.

Pyramid pooling uses adaptive average pools of 1, 2, 3 and 6 bins; at 512x512 the 1/32 map is
16x16, which 6 does not divide into equal windows (Paddle's windows are 3,4,3,3,4,3 wide).
paddle2onnx turns such a pool into one AveragePool of kernel 6 stride 2, which computes something
else (measured: 91% pixel agreement). So at the export size, uneven bins are computed exactly as
two matmuls with constant averaging matrices, an op every converter maps one to one.
"""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from edge_kit.zoo.dense_backbones import ConvBNAct, SegmentationOutput, SeparableConvBNReLU


class LinearBottleneck(nn.Sequential):
    def __init__(self, cin, cout, expansion, stride):
        mid = cin * expansion
        super().__init__(ConvBNAct(cin, mid, 1), ConvBNAct(mid, mid, 3, stride, groups=mid),
                         ConvBNAct(mid, cout, 1, act=None))
        self.shortcut = stride == 1 and cin == cout

    def forward(self, x):
        y = super().forward(x)
        return x + y if self.shortcut else y


def _avg_matrix(size: int, bins: int) -> np.ndarray:
    """[size, bins]: column i averages Paddle's adaptive window [floor(i*size/bins), ceil((i+1)*size/bins))."""
    m = np.zeros((size, bins), np.float32)
    for i in range(bins):
        lo, hi = (i * size) // bins, -(-(i + 1) * size // bins)
        m[lo:hi, i] = 1.0 / (hi - lo)
    return m


class AdaptiveAvgPoolMatmul(nn.Layer):
    """AdaptiveAvgPool2D(bins) for one fixed input size, as x @ Pw then (.)^T @ Ph: exact, and converts
    faithfully. Other sizes (small test inputs) fall back to the adaptive pool itself."""

    def __init__(self, bins: int, feat_hw: tuple[int, int]):
        super().__init__()
        self.bins, self.feat_hw = bins, tuple(feat_hw)
        self.fallback = nn.AdaptiveAvgPool2D(bins)
        # Not persistable: not part of state_dict (real PaddleSeg weights still load), but saved with the
        # exported program as constants.
        self.register_buffer("pool_w", paddle.to_tensor(_avg_matrix(feat_hw[1], bins)), persistable=False)
        self.register_buffer("pool_h", paddle.to_tensor(_avg_matrix(feat_hw[0], bins)), persistable=False)

    def forward(self, x):
        if tuple(x.shape[2:]) != self.feat_hw:
            return self.fallback(x)
        y = F.linear(x, self.pool_w)                                    # [N, C, H, bins]
        y = F.linear(paddle.transpose(y, [0, 1, 3, 2]), self.pool_h)    # [N, C, bins, bins] (w, h)
        return paddle.transpose(y, [0, 1, 3, 2])


def _pool(bins: int, feat_hw):
    even = feat_hw[0] % bins == 0 and feat_hw[1] % bins == 0
    return nn.AdaptiveAvgPool2D(bins) if even else AdaptiveAvgPoolMatmul(bins, feat_hw)


class PyramidPooling(nn.Layer):
    def __init__(self, cin, cout, bins=(1, 2, 3, 6), feat_hw=(16, 16)):
        super().__init__()
        inter = cin // len(bins)
        self.stages = nn.LayerList([nn.Sequential(_pool(b, feat_hw), ConvBNAct(cin, inter, 1)) for b in bins])
        self.fuse = ConvBNAct(cin + inter * len(bins), cout, 3)

    def forward(self, x):
        pooled = [F.interpolate(s(x), size=x.shape[2:], mode="bilinear", align_corners=False) for s in self.stages]
        return self.fuse(paddle.concat([x] + pooled[::-1], axis=1))


def _stage(cin, cout, n, stride, expansion=6):
    return [LinearBottleneck(cin, cout, expansion, stride)] + [LinearBottleneck(cout, cout, expansion, 1)
                                                               for _ in range(n - 1)]


class FastSCNNNet(nn.Layer):
    def __init__(self, num_classes, input_hw=(512, 512)):
        super().__init__()
        self.downsample = nn.Sequential(ConvBNAct(3, 32, 3, 2), SeparableConvBNReLU(32, 48, 3, 2),
                                        SeparableConvBNReLU(48, 64, 3, 2))
        self.global_features = nn.Sequential(*_stage(64, 64, 3, 2), *_stage(64, 96, 3, 2),
                                             *_stage(96, 128, 3, 1),
                                             PyramidPooling(128, 128, feat_hw=(input_hw[0] // 32, input_hw[1] // 32)))
        # Feature fusion: the 1/32 path is upsampled, depthwise-filtered, projected, added to the 1/8 path.
        self.low_dw = ConvBNAct(128, 128, 3, groups=128)
        self.low_proj = ConvBNAct(128, 128, 1, act=None)
        self.high_proj = ConvBNAct(64, 128, 1, act=None)
        self.classifier = nn.Sequential(SeparableConvBNReLU(128, 128), SeparableConvBNReLU(128, 128),
                                        nn.Dropout(0.1), nn.Conv2D(128, num_classes, 1))

    def forward(self, x):
        high = self.downsample(x)
        low = F.interpolate(self.global_features(high), size=high.shape[2:], mode="bilinear", align_corners=False)
        fused = F.relu(self.high_proj(high) + self.low_proj(self.low_dw(low)))
        return self.classifier(fused)


def fastscnn(num_classes=19, postprocess=True):
    return SegmentationOutput(FastSCNNNet(num_classes), postprocess)
