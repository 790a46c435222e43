"""Conv building blocks and multi-scale MobileNetV2/V3 feature extractors for the dense-prediction nets.

Classification backbones end in a pooled vector; detection and segmentation need the feature maps
at several strides, and segmentation wants the last stages dilated instead of strided (DeepLab's
"output stride"). These variants follow PaddleSeg's backbones/mobilenetv2.py and mobilenetv3.py
(feature indices, channels) so their parameter counts match what PaddleSeg/PaddleX shipped.
"""
from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from edge_kit.zoo.mobilenet_v3 import LARGE, ResidualUnit

_ACTS = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "hardswish": nn.Hardswish,
    "leaky": lambda: nn.LeakyReLU(0.1), None: None,
}


class ConvBNAct(nn.Sequential):
    """Conv (no bias: BN follows) + BN + optional activation; 'same' padding for odd kernels."""

    def __init__(self, cin, cout, k=3, stride=1, groups=1, act="relu", dilation=1):
        layers = [nn.Conv2D(cin, cout, k, stride, padding=(k - 1) // 2 * dilation, dilation=dilation,
                            groups=groups, bias_attr=False),
                  nn.BatchNorm2D(cout)]
        if _ACTS[act] is not None:
            layers.append(_ACTS[act]())
        super().__init__(*layers)


class SeparableConvBNReLU(nn.Sequential):
    """PaddleSeg's SeparableConvBNReLU: depthwise ConvBN (no activation), then pointwise ConvBNReLU."""

    def __init__(self, cin, cout, k=3, stride=1, dilation=1):
        super().__init__(ConvBNAct(cin, cin, k, stride, groups=cin, act=None, dilation=dilation),
                         ConvBNAct(cin, cout, 1, act="relu"))


def _dilation_plan(strides, output_stride):
    """Per block (stride, dilation): once the running stride reaches output_stride, later stride-2
    blocks become stride 1 and every later block dilates by the stride it gave up (DeepLab)."""
    plan, current, dilation = [], 1, 1
    for s in strides:
        if output_stride is not None and current * s > output_stride:
            dilation *= s
            plan.append((1, dilation))
        else:
            current *= s
            plan.append((s, dilation))
    return plan


class InvertedResidual(nn.Layer):
    """MobileNetV2 block: 1x1 expand (relu6), depthwise (relu6), linear 1x1 project, identity if shapes match."""

    def __init__(self, cin, cout, stride, expand, dilation=1):
        super().__init__()
        hidden = int(round(cin * expand))
        layers = [] if expand == 1 else [ConvBNAct(cin, hidden, 1, act="relu6")]
        layers += [ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act="relu6", dilation=dilation),
                   ConvBNAct(hidden, cout, 1, act=None)]
        self.conv = nn.Sequential(*layers)
        self.shortcut = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.shortcut else self.conv(x)


class _MultiScaleFeatures(nn.Layer):
    """A stem and a list of blocks; returns the outputs of the blocks in `out_index`."""

    def forward(self, x):
        x, feats = self.stem(x), []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.out_index:
                feats.append(x)
        return feats


# (expansion t, channels c, repeats n, stride s) of MobileNetV2 x1.0.
_V2_CFG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
           (6, 320, 1, 1)]


class MobileNetV2Features(_MultiScaleFeatures):
    """MobileNetV2 x1.0 without its 1280-channel head; returns the stride-4/8/16/32 features
    (24, 32, 96, 320 channels), the last ones dilated when output_stride is 8 or 16."""

    feat_channels = (24, 32, 96, 320)

    def __init__(self, output_stride=None):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, 2, act="relu6")
        specs = [(t, c, s if i == 0 else 1) for t, c, n, s in _V2_CFG for i in range(n)]
        plan = _dilation_plan([s for _, _, s in specs], output_stride // 2 if output_stride else None)
        blocks, cin = [], 32
        for (t, c, _), (s, d) in zip(specs, plan):
            blocks.append(InvertedResidual(cin, c, s, t, d))
            cin = c
        self.blocks = nn.LayerList(blocks)
        # Last block of each stage with 24/32/96/320 channels.
        self.out_index = (2, 5, 12, 16)


class MobileNetV3LargeFeatures(_MultiScaleFeatures):
    """MobileNetV3-large x1.0 without the 960/1280 head convs (PaddleSeg out_index 2, 5, 11, 14:
    24, 40, 112, 160 channels at strides 4, 8, 16, 32, or dilated for output_stride 8/16)."""

    feat_channels = (24, 40, 112, 160)

    def __init__(self, output_stride=None):
        super().__init__()
        self.stem = ConvBNAct(3, 16, 3, 2, act="hardswish")
        plan = _dilation_plan([c[5] for c in LARGE], output_stride // 2 if output_stride else None)
        blocks, cin = [], 16
        for (k, mid, cout, se, act, _), (s, d) in zip(LARGE, plan):
            blocks.append(ResidualUnit(cin, mid, cout, k, s, se, act, d))
            cin = cout
        self.blocks = nn.LayerList(blocks)
        self.out_index = (2, 5, 11, 14)


class SegmentationOutput(nn.Layer):
    """Wraps a net giving low-resolution logits: bilinear upsample to the input size, then (for the
    in-graph postprocess the Paddle-Lite demo apps expect) argmax to an int32 label map [N,H,W]."""

    def __init__(self, net, postprocess=True, align_corners=False):
        super().__init__()
        self.net, self.postprocess, self.align_corners = net, postprocess, align_corners

    def forward(self, x):
        logits = F.interpolate(self.net(x), size=x.shape[2:], mode="bilinear",
                               align_corners=self.align_corners)
        if not self.postprocess:
            return logits
        return argmax_int32(logits, axis=1)


def argmax_int32(x, axis):
    """paddle.argmax(dtype='int32'), also when traced into a legacy program: Paddle 3.3's argmax
    calls the PIR-only _C_ops.argmax there and fails, so the arg_max op is appended directly."""
    from paddle.framework import in_dynamic_or_pir_mode
    if in_dynamic_or_pir_mode():
        return paddle.argmax(x, axis=axis, dtype="int32")
    from paddle.base.layer_helper import LayerHelper
    helper = LayerHelper("arg_max")
    out = helper.create_variable_for_type_inference("int32")
    helper.append_op(type="arg_max", inputs={"X": x}, outputs={"Out": [out]},
                     attrs={"axis": axis, "keepdims": False, "flatten": False,
                            "dtype": int(paddle.base.core.VarDesc.VarType.INT32)})
    out.stop_gradient = True
    return out
