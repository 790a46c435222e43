"""Preprocessing, task and labels from the config a Paddle toolkit writes beside its exported model.

    PaddleX 3           inference.yml    Global.model_name, PreProcess.transform_ops / Preprocess / Deploy,
                                         PostProcess (Topk.label_list, DBPostProcess, CTCLabelDecode), label_list
    PaddleClas          inference_cls.yml (or .yaml): PreProcess.transform_ops, PostProcess.Topk.class_id_map_file
    PaddleDetection     infer_cfg.yml    arch, Preprocess [{type: Resize, target_size: [h, w]}, NormalizeImage], label_list
    PaddleSeg           deploy.yaml      Deploy.transforms [{type: Resize, target_size: [w, h]}, {type: Normalize}]
    PaddleX 1.x         model.yml        _Attributes.model_type / labels, Transforms

Every value keeps where it came from ("infer_cfg.yml: Preprocess NormalizeImage"), so the manifest can say
which preprocessing was used and why. Flags (--task, --mean, --std, --scale, --labels) override it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from edge_kit.errors import ModelFileError

CONFIG_FILES = ("inference.yml", "inference.yaml", "inference_cls.yml", "inference_cls.yaml", "infer_cfg.yml",
                "deploy.yaml", "deploy.yml", "model.yml")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ExportConfig:
    """What an export's config says; each field None when it says nothing. `origin` maps field -> where."""

    file: Optional[str] = None
    toolkit: Optional[str] = None
    task: Optional[str] = None
    labels: list[str] = field(default_factory=list)
    mean: Optional[tuple] = None
    std: Optional[tuple] = None
    scale: Optional[float] = None
    channel_order: Optional[str] = None
    resize_hw: Optional[tuple] = None     # the fixed (height, width) the network is fed, if the config fixes it
    resize_short: Optional[int] = None
    origin: dict = field(default_factory=dict)


def _number(v) -> float:
    """Configs write scale as 0.00392157 or as the string '1./255.'."""
    if isinstance(v, str):
        num, _, den = v.partition("/")
        return float(num) / float(den) if den else float(num)
    return float(v)


def _ops(transforms) -> list[tuple[str, dict]]:
    """Both spellings of a transform list: [{Name: {args}}] (PaddleClas, PaddleOCR, PaddleX) and
    [{type: Name, args...}] (PaddleDetection, PaddleSeg)."""
    out = []
    for item in transforms or []:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, dict) and "type" in item:
            out.append((str(item["type"]), {k: v for k, v in item.items() if k != "type"}))
        elif isinstance(item, dict) and len(item) == 1:
            (name, args), = item.items()
            out.append((str(name), args or {}))
    return out


def _hw(size, wh_order: bool) -> Optional[tuple]:
    if size is None:
        return None
    if isinstance(size, int):
        return (size, size)
    size = [int(s) for s in size]
    if len(size) != 2:
        return None
    return (size[1], size[0]) if wh_order else (size[0], size[1])


def _apply_transforms(cfg: ExportConfig, ops, where: str, wh_order: bool) -> None:
    for name, args in ops:
        tag = f"{where} {name}"
        if name in ("NormalizeImage", "Normalize", "DetNormalizeImage"):
            if args.get("norm_type") == "none":
                cfg.mean, cfg.std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
            else:
                # PaddleSeg's Normalize defaults to 0.5 / 0.5; the others name theirs
                default = (0.5, 0.5, 0.5) if name == "Normalize" and cfg.toolkit == "PaddleSeg" else None
                mean, std = args.get("mean", default), args.get("std", default)
                if mean is not None:
                    cfg.mean = tuple(float(m) for m in mean)
                if std is not None:
                    cfg.std = tuple(float(s) for s in std)
            if "scale" in args:
                cfg.scale = _number(args["scale"])
            elif "is_scale" in args:
                cfg.scale = 1 / 255.0 if args["is_scale"] else 1.0
            else:
                cfg.scale = 1 / 255.0
            cfg.origin.update(mean=tag, std=tag, scale=tag)
        elif name in ("Resize", "DetResize", "ResizeImage") and (args.get("target_size") or args.get("size")):
            hw = _hw(args.get("target_size") or args.get("size"), wh_order)
            if hw and not args.get("keep_ratio"):
                cfg.resize_hw, cfg.origin["resize_hw"] = hw, tag
        elif name in ("ResizeImage", "ResizeByShort") and (args.get("resize_short") or args.get("short_size")):
            cfg.resize_short = int(args.get("resize_short") or args.get("short_size"))
            cfg.origin["resize_short"] = tag
        elif name in ("CropImage", "CenterCrop") and (args.get("size") or args.get("crop_size")):
            cfg.resize_hw = _hw(args.get("size") or args.get("crop_size"), wh_order)
            cfg.origin["resize_hw"] = tag
        elif name == "DetResizeForTest" and args.get("image_shape"):
            cfg.resize_hw, cfg.origin["resize_hw"] = _hw(args["image_shape"], False), tag
        elif name == "RecResizeImg" and args.get("image_shape"):
            cfg.resize_hw, cfg.origin["resize_hw"] = tuple(int(d) for d in args["image_shape"][1:3]), tag
        elif name == "DecodeImage" and args.get("img_mode") in ("RGB", "BGR"):
            cfg.channel_order, cfg.origin["channel_order"] = args["img_mode"], tag


def _labels_file(path: Path, base: Path) -> list[str]:
    p = (base / path) if not Path(path).is_absolute() else Path(path)
    if not p.is_file():
        return []
    return [line.rstrip("\n") for line in p.read_text(errors="replace").splitlines() if line.strip()]


POSTPROCESS_TASKS = {"Topk": "classification", "DBPostProcess": "text_detection",
                     "CTCLabelDecode": "text_recognition", "ClsPostProcess": "classification"}


def _paddlex3(doc: dict, cfg: ExportConfig, base: Path) -> None:
    fname = cfg.file
    cfg.toolkit = "PaddleX 3"
    if "Deploy" in doc:  # segmentation models keep PaddleSeg's Deploy section
        cfg.toolkit = "PaddleSeg"
        _paddleseg(doc, cfg)
        cfg.toolkit = "PaddleX 3"
        return
    pre = doc.get("PreProcess") or {}
    if isinstance(pre, dict):
        _apply_transforms(cfg, _ops(pre.get("transform_ops")), f"{fname}: PreProcess", wh_order=True)
    if doc.get("Preprocess"):  # detection models keep PaddleDetection's layout
        _paddledet(doc, cfg)
        return
    post = doc.get("PostProcess") or {}
    if isinstance(post, dict):
        names = [post.get("name")] + list(post)
        task = next((POSTPROCESS_TASKS[n] for n in names if n in POSTPROCESS_TASKS), None)
        if task:
            cfg.task, cfg.origin["task"] = task, f"{fname}: PostProcess"
        topk = post.get("Topk") or {}
        if isinstance(topk, dict) and topk.get("label_list"):
            cfg.labels, cfg.origin["labels"] = [str(x) for x in topk["label_list"]], f"{fname}: PostProcess.Topk.label_list"
        elif post.get("character_dict"):
            cfg.labels, cfg.origin["labels"] = [str(x) for x in post["character_dict"]], f"{fname}: PostProcess.character_dict"
        elif isinstance(post.get("label_list"), list):
            cfg.labels, cfg.origin["labels"] = [str(x) for x in post["label_list"]], f"{fname}: PostProcess.label_list"


def _paddleclas(doc: dict, cfg: ExportConfig, base: Path) -> None:
    cfg.toolkit = "PaddleClas"
    pre = doc.get("PreProcess") or {}
    _apply_transforms(cfg, _ops(pre.get("transform_ops")), f"{cfg.file}: PreProcess", wh_order=True)
    post = doc.get("PostProcess") or {}
    if "Topk" in post:
        cfg.task, cfg.origin["task"] = "classification", f"{cfg.file}: PostProcess.Topk"
        mapfile = (post.get("Topk") or {}).get("class_id_map_file")
        if mapfile:
            lines = _labels_file(Path(mapfile), base)
            # PaddleClas's map file lines are "id name"
            labels = [ln.split(" ", 1)[1] if " " in ln and ln.split(" ", 1)[0].isdigit() else ln for ln in lines]
            if labels:
                cfg.labels, cfg.origin["labels"] = labels, f"{cfg.file}: PostProcess.Topk.class_id_map_file ({mapfile})"


def _paddledet(doc: dict, cfg: ExportConfig) -> None:
    cfg.toolkit = cfg.toolkit or "PaddleDetection"
    _apply_transforms(cfg, _ops(doc.get("Preprocess")), f"{cfg.file}: Preprocess", wh_order=False)
    cfg.task, cfg.origin["task"] = "detection", f"{cfg.file}: arch {doc.get('arch', '?')}"
    if doc.get("label_list"):
        cfg.labels, cfg.origin["labels"] = [str(x) for x in doc["label_list"]], f"{cfg.file}: label_list"


def _paddleseg(doc: dict, cfg: ExportConfig) -> None:
    cfg.toolkit = cfg.toolkit or "PaddleSeg"
    deploy = doc.get("Deploy") or {}
    # PaddleSeg normalizes img / 255 with mean = std = 0.5 unless a Normalize says otherwise
    cfg.mean, cfg.std, cfg.scale = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255.0
    for k in ("mean", "std", "scale"):
        cfg.origin[k] = f"{cfg.file}: PaddleSeg's default (no Normalize transform)"
    _apply_transforms(cfg, _ops(deploy.get("transforms")), f"{cfg.file}: Deploy.transforms", wh_order=True)
    cfg.task, cfg.origin["task"] = "semantic_segmentation", f"{cfg.file}: Deploy"


def _paddlex1(doc: dict, cfg: ExportConfig) -> None:
    cfg.toolkit = "PaddleX 1.x"
    attrs = doc.get("_Attributes") or {}
    _apply_transforms(cfg, _ops(doc.get("Transforms") or doc.get("test_transforms")), f"{cfg.file}: Transforms",
                      wh_order=True)
    task = {"classifier": "classification", "detector": "detection",
            "segmenter": "semantic_segmentation"}.get(str(attrs.get("model_type", "")).lower())
    if task:
        cfg.task, cfg.origin["task"] = task, f"{cfg.file}: _Attributes.model_type"
    if attrs.get("labels"):
        cfg.labels, cfg.origin["labels"] = [str(x) for x in attrs["labels"]], f"{cfg.file}: _Attributes.labels"


def read_export_config(model_dir: Path) -> ExportConfig:
    """The first toolkit config found beside the model (CONFIG_FILES order), parsed; empty if none."""
    import yaml

    model_dir = Path(model_dir)
    path = next((model_dir / n for n in CONFIG_FILES if (model_dir / n).is_file()), None)
    if path is None:
        return ExportConfig()
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ModelFileError(f"{path}: not valid YAML ({exc.__class__.__name__}); fix it or move it away")
    if not isinstance(doc, dict):
        raise ModelFileError(f"{path}: expected a mapping at the top level, found {type(doc).__name__}")
    cfg = ExportConfig(file=path.name)
    name = path.name
    if name == "model.yml":
        _paddlex1(doc, cfg)
    elif name.startswith("deploy"):
        _paddleseg(doc, cfg)
    elif name == "infer_cfg.yml":
        _paddledet(doc, cfg)
    elif name.startswith("inference_cls"):
        _paddleclas(doc, cfg, model_dir)
    else:
        _paddlex3(doc, cfg, model_dir)
    return cfg


def resolve_preprocess(cfg: ExportConfig, hw: tuple, *, mean=None, std=None, scale=None, task=None,
                       labels_file: Optional[str] = None) -> tuple[Any, str, list[str], dict]:
    """(Preprocess, task, labels, origins): flags first, then the config, then defaults, each recorded."""
    from edge_kit.zoo.registry import Preprocess

    origins: dict[str, str] = {}

    def pick(key, flag, from_cfg, default, default_why):
        if flag is not None:
            origins[key] = f"--{key}"
            return flag
        if from_cfg is not None:
            origins[key] = cfg.origin.get(key, cfg.file or "config")
            return from_cfg
        origins[key] = default_why
        return default

    none_given = "default: no config and no flag gave it (ImageNet statistics)"
    mean_v = tuple(pick("mean", tuple(mean) if mean else None, cfg.mean, IMAGENET_MEAN, none_given))
    std_v = tuple(pick("std", tuple(std) if std else None, cfg.std, IMAGENET_STD, none_given))
    scale_v = float(pick("scale", scale, cfg.scale, 1 / 255.0, "default: pixel / 255"))
    order = cfg.channel_order or "RGB"
    origins["channel_order"] = cfg.origin.get("channel_order", "default")
    task_v = pick("task", task, cfg.task, "unknown", "nothing said which task (set --task)")
    if labels_file:
        p = Path(labels_file)
        if not p.is_file():
            raise ModelFileError(f"--labels {labels_file}: no such file")
        labels = [ln.strip() for ln in p.read_text(errors="replace").splitlines() if ln.strip()]
        origins["labels"] = f"--labels {labels_file}"
    elif cfg.labels:
        labels, origins["labels"] = list(cfg.labels), cfg.origin.get("labels", cfg.file)
    else:
        labels, origins["labels"] = [], "none (no config label list and no --labels)"
    resize_short = cfg.resize_short if cfg.resize_hw and tuple(cfg.resize_hw) == tuple(hw) else None
    pre = Preprocess(resize=tuple(hw), resize_short=resize_short, mean=mean_v, std=std_v, channel_order=order,
                     scale=scale_v)
    if cfg.file:
        origins["config"] = f"{cfg.file} ({cfg.toolkit})"
    return pre, task_v, labels, origins
