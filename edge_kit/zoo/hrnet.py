"""HRNet_W18_Small_V1 and HRNet_W18 with PaddleSeg's FCN head (paddleseg/models/backbones/hrnet.py,
models/fcn.py).

Stem (two stride-2 3x3 convs) -> one bottleneck (32 -> 128 channels) -> stages of 2, 3 and 4 parallel
branches (16/32/64/128 channels at strides 4/8/16/32, one module each, two basic blocks per branch)
exchanging information through fuse layers -> all branches upsampled to stride 4 and concatenated
(240 channels) -> FCN head (1x1 ConvBNReLU, 1x1 classifier).

HRNet_W18 is the same network grown as PaddleSeg configures it: four bottlenecks (64 -> 256) in stage 1,
branches of 18/36/72/144 channels, four basic blocks per branch, and 1 / 4 / 3 modules in stages 2-4
(270 channels into the head).
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from edge_kit.zoo.dense_backbones import ConvBNAct, SegmentationOutput

_CHANNELS = (16, 32, 64, 128)


class BasicBlock(nn.Layer):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(channels, channels, 3), ConvBNAct(channels, channels, 3, act=None))

    def forward(self, x):
        return F.relu(x + self.body(x))


class Bottleneck(nn.Layer):
    def __init__(self, cin, width):
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(cin, width, 1), ConvBNAct(width, width, 3),
                                  ConvBNAct(width, width * 4, 1, act=None))
        # a projection only where the channels change (HRNet_W18's 2nd-4th bottlenecks add the identity)
        self.down = ConvBNAct(cin, width * 4, 1, act=None) if cin != width * 4 else nn.Identity()

    def forward(self, x):
        return F.relu(self.down(x) + self.body(x))


class Transition(nn.Layer):
    """Adapts the previous stage's branches and adds one branch at half the resolution."""

    def __init__(self, cins, couts):
        super().__init__()
        layers = []
        for i, cout in enumerate(couts):
            if i < len(cins):
                layers.append(ConvBNAct(cins[i], cout, 3) if cins[i] != cout else nn.Identity())
            else:
                layers.append(ConvBNAct(cins[-1], cout, 3, stride=2))
        self.layers = nn.LayerList(layers)
        self.n_in = len(cins)

    def forward(self, xs):
        return [layer(xs[min(i, self.n_in - 1)]) for i, layer in enumerate(self.layers)]


class FuseLayer(nn.Layer):
    """Output branch i sums every input branch j: 1x1 conv + bilinear upsample from coarser branches,
    a chain of stride-2 3x3 convs from finer ones."""

    def __init__(self, channels):
        super().__init__()
        n = len(channels)
        self.paths = nn.LayerList()
        for i in range(n):
            row = nn.LayerList()
            for j in range(n):
                if j > i:
                    row.append(ConvBNAct(channels[j], channels[i], 1, act=None))
                elif j < i:
                    convs = [ConvBNAct(channels[j], channels[j], 3, 2) for _ in range(i - j - 1)]
                    convs.append(ConvBNAct(channels[j], channels[i], 3, 2, act=None))
                    row.append(nn.Sequential(*convs))
                else:
                    row.append(nn.Identity())
            self.paths.append(row)

    def forward(self, xs):
        outs = []
        for i, row in enumerate(self.paths):
            y = xs[i]
            for j, path in enumerate(row):
                if j > i:
                    y = y + F.interpolate(path(xs[j]), size=xs[i].shape[2:], mode="bilinear", align_corners=False)
                elif j < i:
                    y = y + path(xs[j])
            outs.append(F.relu(y))
        return outs


class Stage(nn.Layer):
    """One high-resolution module: two basic blocks per branch, then the fuse layer."""

    def __init__(self, channels, blocks=2):
        super().__init__()
        self.branches = nn.LayerList([nn.Sequential(*[BasicBlock(c) for _ in range(blocks)]) for c in channels])
        self.fuse = FuseLayer(channels)

    def forward(self, xs):
        return self.fuse([b(x) for b, x in zip(self.branches, xs)])


class HRNetW18SmallV1FCN(nn.Layer):
    """Defaults: HRNet_W18_Small_V1. `channels`, `stage1` (bottlenecks, width), `modules` per stage 2-4 and
    `blocks` per branch give the other HRNet sizes (hrnet_w18 below)."""

    def __init__(self, num_classes, channels=_CHANNELS, stage1=(1, 32), modules=(1, 1, 1), blocks=2):
        super().__init__()
        self.stem = nn.Sequential(ConvBNAct(3, 64, 3, 2), ConvBNAct(64, 64, 3, 2))
        n1, w1 = stage1
        # A single bottleneck / module stays unwrapped so HRNet_W18_Small_V1 keeps its parameter names
        # (and with them its seeded weights and cached conversions).
        bottlenecks = [Bottleneck(64 if i == 0 else w1 * 4, w1) for i in range(n1)]
        self.layer1 = bottlenecks[0] if n1 == 1 else nn.Sequential(*bottlenecks)

        def stage(chs, n):
            return Stage(chs, blocks) if n == 1 else nn.Sequential(*[Stage(chs, blocks) for _ in range(n)])

        self.tr1, self.st2 = Transition([w1 * 4], channels[:2]), stage(channels[:2], modules[0])
        self.tr2, self.st3 = Transition(channels[:2], channels[:3]), stage(channels[:3], modules[1])
        self.tr3, self.st4 = Transition(channels[:3], channels), stage(channels, modules[2])
        width = sum(channels)
        self.head = nn.Sequential(ConvBNAct(width, width, 1), nn.Conv2D(width, num_classes, 1))

    def forward(self, x):
        xs = [self.layer1(self.stem(x))]
        xs = self.st2(self.tr1(xs))
        xs = self.st3(self.tr2(xs))
        xs = self.st4(self.tr3(xs))
        size = xs[0].shape[2:]
        feat = paddle.concat([xs[0]] + [F.interpolate(x, size=size, mode="bilinear", align_corners=False)
                                        for x in xs[1:]], axis=1)
        return self.head(feat)


def hrnet_w18_small_v1(num_classes=19, postprocess=True):
    return SegmentationOutput(HRNetW18SmallV1FCN(num_classes), postprocess)


def hrnet_w18(num_classes=19, postprocess=True):
    return SegmentationOutput(HRNetW18SmallV1FCN(num_classes, channels=(18, 36, 72, 144), stage1=(4, 64),
                                                 modules=(1, 4, 3), blocks=4), postprocess)
