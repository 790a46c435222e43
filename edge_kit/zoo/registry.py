"""Every model of the seed tables, by its seed name: task, input, preprocessing and builder.

A model is "implemented" when it has a builder: a dotted path "module:function" returning a
paddle.nn.Layer in eval mode. The builders live in small modules beside this one and are imported
only when a model is built (Paddle's import costs seconds).
"""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Optional

from edge_kit.errors import UnknownModelError
from edge_kit.seed import SeedRow, seed_row, seed_rows

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocess:
    """What an app must do to a camera frame before inference (recorded in every manifest)."""

    resize: tuple[int, int]           # (height, width) fed to the network
    resize_short: Optional[int]       # classification: resize short side, then centre-crop
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channel_order: str = "RGB"
    scale: float = 1.0 / 255.0        # pixel * scale, then (x - mean) / std

    def as_dict(self) -> dict:
        return {"resize_hw": list(self.resize), "resize_short": self.resize_short,
                "mean": list(self.mean), "std": list(self.std),
                "channel_order": self.channel_order, "scale": self.scale}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str
    input_shape: tuple[int, int, int, int]     # NCHW, batch 1
    num_classes: int
    preprocess: Preprocess
    builder: Optional[str] = None              # "module:function"; None: not implemented yet
    size_note: str = ""                        # why the parameter size differs from the seed's column
    extra: dict = field(default_factory=dict)  # task specifics (anchors, ...)
    not_implemented_why: str = ""              # for a model without a builder: what stands in the way, measured

    @property
    def seed(self) -> SeedRow:
        return seed_row(self.name)

    @property
    def implemented(self) -> bool:
        return self.builder is not None

    def build(self, **kwargs):
        """Return the paddle.nn.Layer (eval mode) for this model."""
        if self.builder is None:
            raise UnknownModelError(f"{self.name} is listed from the seed but not implemented by edgekit yet")
        module, func = self.builder.split(":")
        return getattr(importlib.import_module(module), func)(**kwargs)


def _cls(name: str, builder: Optional[str], note: str = "") -> ModelSpec:
    pre = Preprocess(resize=(224, 224), resize_short=256, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    return ModelSpec(name, "classification", (1, 3, 224, 224), 1000, pre, builder, note)


# PaddleX exported YOLOv3 at 608x608 for its tables; its detection transforms normalise with ImageNet stats.
_DET_PRE = Preprocess(resize=(608, 608), resize_short=None, mean=IMAGENET_MEAN, std=IMAGENET_STD)
# PaddleX segmentation defaults: 512x512, mean = std = 0.5.
_SEG_PRE = Preprocess(resize=(512, 512), resize_short=None, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


def _det(name: str, builder: Optional[str] = None, note: str = "", why: str = "") -> ModelSpec:
    return ModelSpec(name, "detection", (1, 3, 608, 608), 80, _DET_PRE, builder, note, not_implemented_why=why)


def _ins(name: str) -> ModelSpec:
    return ModelSpec(name, "instance_segmentation", (1, 3, 800, 1333), 80, _DET_PRE, None)


def _seg(name: str, builder: Optional[str] = None, note: str = "") -> ModelSpec:
    return ModelSpec(name, "semantic_segmentation", (1, 3, 512, 512), 19, _SEG_PRE, builder, note)


_Z = "edge_kit.zoo"
_SPECS: tuple[ModelSpec, ...] = (
    _cls("MobileNetV3_small_ssld", f"{_Z}.mobilenet_v3:mobilenet_v3_small"),
    _cls("ShuffleNetV2", f"{_Z}.shufflenet_v2:shufflenet_v2",
         "9.18 MB: the standard x1.0 network has 2,278,604 parameters (PaddleClas, PaddleX and torchvision "
         "agree), 0.900 of the seed's 10.2 MB, which presumably also counts the exported program file"),
    _cls("MobileNetV3_large_ssld", f"{_Z}.mobilenet_v3:mobilenet_v3_large"),
    _cls("MobileNetV2", f"{_Z}.mobilenet_v2:mobilenet_v2"),
    _cls("ResNet50_vd_ssld", f"{_Z}.resnet_vd:resnet50_vd"),
    _cls("ResNet101_vd_ssld", f"{_Z}.resnet_vd:resnet101_vd"),
    _cls("Xception65", f"{_Z}.xception:xception65"),
    _det("YOLOv3-MobileNetV3_large", f"{_Z}.yolov3:yolov3_mobilenet_v3_large"),
    _det("YOLOv3-MobileNetV1", f"{_Z}.yolov3:yolov3_mobilenet_v1"),
    _det("YOLOv3-DarkNet53", f"{_Z}.darknet:yolov3_darknet53"),
    _det("PPYOLO", f"{_Z}.ppyolo:ppyolo_r50vd_dcn",
         "188.5 MB: PaddleDetection's ppyolo_r50vd_dcn (ResNet50_vd with DCNv2 in res5, PPYOLOFPN with CoordConv and "
         "SPP, IoU-aware YOLOv3 head; 47.1M values with BN statistics); the seed's 329.1 MB is 1.75x that, which "
         "the architecture does not reproduce (not the 2x of HRNet_W18's and DeepLabv3p-Xception65's files)"),
    _det("FasterRCNN-ResNet50-FPN"),
    _det("FasterRCNN-HRNet_W18-FPN"),
    _det("FasterRCNN-ResNet101_vd-FPN"),
    _ins("MaskRCNN-HRNet_W18-FPN"),
    _ins("MaskRCNN-ResNet50-FPN"),
    _ins("MaskRCNN-ResNet101_vd-FPN"),
    _seg("DeepLabv3p-MobileNetV2_x1.0", f"{_Z}.deeplab:deeplabv3p_mobilenetv2", "11.0 MB: PaddleSeg's DeepLabV3+ (MobileNetV2 x1.0 trunk without its 1280-channel head, separable ASPP, decoder); the seed's 14.7 MB PaddleX 1.x file is not reproduced by that architecture"),
    _seg("DeepLabv3-MobileNetV3_large_x1_0_ssld", f"{_Z}.deeplab:deeplabv3_mobilenetv3_large", "17.5 MB: PaddleSeg's DeepLabV3 head is a plain 3x3 atrous ASPP (6 MB) on the MobileNetV3-large trunk (11 MB); the seed's 9.3 MB is below the fp32 trunk alone, so it must be a lighter head or a compressed file"),
    _seg("HRNet_W18_Small_v1", f"{_Z}.hrnet:hrnet_w18_small_v1", "6.2 MB (1.5M parameters, as the HRNet paper gives); the seed has no storage figure"),
    _seg("FastSCNN", f"{_Z}.fastscnn:fastscnn", "5.7 MB: PaddleSeg's Fast-SCNN inference graph; the seed's 9.8 MB presumably includes the training-only auxiliary heads or optimizer state"),
    _seg("HRNet_W18", f"{_Z}.hrnet:hrnet_w18", "38.7 MB: PaddleSeg's HRNet_W18 with the FCN head (9.7M parameters with BN statistics, the HRNet paper's 9.6M); the seed's 77.3 MB is almost exactly twice that, presumably a file holding a second copy of the weights, which the architecture does not reproduce"),
    _seg("DeepLabv3p-Xception65", f"{_Z}.deeplab:deeplabv3p_xception65", "165.0 MB: DeepLabV3+ (separable ASPP, decoder) on PaddleX's Xception65 trunk at output stride 16; the seed's 329.3 MB is almost exactly twice that, as HRNet_W18's is, presumably files holding a second copy of the weights"),
)

assert [s.name for s in _SPECS] == [r.model for r in seed_rows()], "zoo must list the seed's rows in order"


def all_models() -> tuple[ModelSpec, ...]:
    return _SPECS


def get_model(name: str) -> ModelSpec:
    for spec in _SPECS:
        if spec.name == name:
            return spec
    lowered = {s.name.lower(): s for s in _SPECS}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, [s.name for s in _SPECS], n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `edgekit models` lists them"
    raise UnknownModelError(f"unknown model {name!r}{hint}")
