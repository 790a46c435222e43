"""Where a conversion starts: a zoo model, a user's exported Paddle inference model, or an ONNX file.

A Source knows the model's name, task, input shape and preprocessing, and a content key that changes
whenever anything that determines the converted bytes changes (weights, code, shapes).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Optional

import numpy as np

from edge_kit.errors import ModelFileError, UnsupportedOpError
from edge_kit.images import natural_images, preprocess
from edge_kit.manifest import sha256_file
from edge_kit.zoo.registry import IMAGENET_MEAN, IMAGENET_STD, ModelSpec, Preprocess, get_model

PARITY_IMAGES = 8


@dataclass
class Source:
    kind: str                        # "zoo" | "paddle" | "onnx"
    name: str
    task: str
    input_shape: tuple[int, ...]
    preprocess: Preprocess
    key: str                         # content hash of everything the conversion depends on
    spec: Optional[ModelSpec] = None
    program: Optional[Path] = None   # user's .pdmodel
    params: Optional[Path] = None
    onnx: Optional[Path] = None
    weights: Optional[str] = None
    seed: int = 0
    labels: list[str] = field(default_factory=list)
    describe: dict = field(default_factory=dict)

    def parity_inputs(self) -> np.ndarray:
        """Fixed natural-looking images, preprocessed as the app would, NCHW float32."""
        if self.kind == "zoo" and self.task == "detection" and not self.weights:
            # An untrained detector's scores are only detector-like on the images its objectness prior
            # was calibrated on; elsewhere they saturate, ties appear and NMS keeps arbitrary boxes.
            from edge_kit.zoo.build import calibration_inputs

            return calibration_inputs(self.spec)
        _, _, h, w = self.input_shape
        return preprocess(natural_images(PARITY_IMAGES, h, w, seed=42), self.preprocess)


def _zoo_code_hash(spec: ModelSpec) -> str:
    """Exports change when the network code changes, so the code is part of the cache key: the builder's
    module and every edge_kit.zoo / edge_kit.postprocess module it imports, transitively."""
    import ast

    pkg_dir = Path(str(resources.files("edge_kit")))
    seen, todo = set(), [spec.builder.split(":")[0], "edge_kit.zoo.build", "edge_kit.zoo.init", "edge_kit.images"]
    h = hashlib.sha256()
    while todo:
        mod = todo.pop()
        path = pkg_dir.parent / (mod.replace(".", "/") + ".py")
        if mod in seen or not path.exists():
            continue
        seen.add(mod)
        source = path.read_bytes()
        h.update(mod.encode() + source)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("edge_kit"):
                todo.append(node.module)
                todo.extend(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                todo.extend(a.name for a in node.names if a.name.startswith("edge_kit"))
    return h.hexdigest()


def _key(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def zoo_source(name: str, weights: Optional[str] = None, seed: int = 0) -> Source:
    spec = get_model(name)
    if not spec.implemented:
        from edge_kit.errors import UnknownModelError

        raise UnknownModelError(f"{spec.name} is in the seed tables but edgekit does not implement it yet")
    wkey = "untrained"
    if weights:
        if not Path(weights).is_file():
            raise ModelFileError(f"weights file {weights} does not exist")
        wkey = sha256_file(Path(weights))
    return Source("zoo", spec.name, spec.task, spec.input_shape, spec.preprocess,
                  _key("zoo", spec.name, wkey, seed, _zoo_code_hash(spec)), spec=spec, weights=weights, seed=seed,
                  describe={"kind": "zoo", "model": spec.name,
                            "weights": weights or f"untrained (seed {seed}): for latency and conversion checks"})


def _paddlex_yaml(path: Path) -> tuple[Optional[Preprocess], Optional[str], list[str]]:
    """Preprocessing, task and labels from a PaddleX model.yml (Transforms: ResizeByShort, CenterCrop,
    Resize, Normalize...)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ModelFileError(f"{path}: not valid YAML ({exc.__class__.__name__})")
    transforms = doc.get("Transforms") or doc.get("test_transforms") or []
    mean, std, size, short = IMAGENET_MEAN, IMAGENET_STD, None, None
    for item in transforms:
        (name, args), = item.items() if isinstance(item, dict) else ((item, {}),)
        args = args or {}
        if name == "Normalize":
            mean, std = tuple(args.get("mean", mean)), tuple(args.get("std", std))
        elif name == "ResizeByShort":
            short = args.get("short_size")
        elif name in ("CenterCrop", "Resize"):
            s = args.get("crop_size", args.get("target_size"))
            size = (s, s) if isinstance(s, int) else tuple(s) if s else None
    task = {"classifier": "classification", "detector": "detection",
            "segmenter": "semantic_segmentation"}.get(str(doc.get("_Attributes", {}).get("model_type", "")).lower())
    labels = list(doc.get("_Attributes", {}).get("labels", []) or [])
    pre = Preprocess(resize=size, resize_short=short, mean=mean, std=std) if size else None
    return pre, task, labels


def paddle_source(model_dir: str) -> Source:
    from converters.paddle_source import check_program_file, locate_program, program_io

    prog, params = locate_program(Path(model_dir))
    check_program_file(prog)
    inputs, _, _ = program_io(prog)
    if not inputs or len(inputs[0]["shape"]) != 4:
        raise ModelFileError(f"{prog}: edgekit converts image models with one NCHW input; found {inputs}")
    shape = tuple(1 if d < 0 else d for d in inputs[0]["shape"])
    pre, task, labels = None, None, []
    yml = Path(model_dir) / "model.yml"
    if yml.exists():
        pre, task, labels = _paddlex_yaml(yml)
    if pre is None:
        pre = Preprocess(resize=tuple(shape[2:]), resize_short=None, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    if any(d <= 0 for d in shape[2:]):
        shape = (1, 3, *pre.resize)
    key = _key("paddle", sha256_file(prog), sha256_file(params), shape)
    return Source("paddle", Path(model_dir).resolve().name, task or "unknown", shape, pre, key, program=prog,
                  params=params, labels=labels,
                  describe={"kind": "paddle", "dir": str(Path(model_dir).resolve()), "model_yml": yml.exists()})


def onnx_source(path: str) -> Source:
    import onnx

    from converters.onnx_export import onnx_io

    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"ONNX file {path} does not exist")
    try:
        onnx.checker.check_model(onnx.load(str(p)))
    except Exception as exc:
        raise ModelFileError(f"{path}: not a valid ONNX model ({type(exc).__name__}: {str(exc)[:200]})")
    model = onnx.load(str(p))
    custom = sorted({f"{n.domain}::{n.op_type}" for n in model.graph.node if n.domain not in ("", "ai.onnx")})
    if custom:
        raise UnsupportedOpError(f"{path}: ops outside the ONNX standard have no TFLite conversion: {', '.join(custom)}")
    inputs, _ = onnx_io(p)
    if len(inputs) != 1 or len(inputs[0]["shape"]) != 4:
        raise ModelFileError(f"{path}: edgekit converts image models with one NCHW input; found {inputs}")
    shape = tuple(1 if d <= 0 else d for d in inputs[0]["shape"])
    pre = Preprocess(resize=tuple(shape[2:]), resize_short=None, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    return Source("onnx", p.stem, "unknown", shape, pre, _key("onnx", sha256_file(p)), onnx=p,
                  describe={"kind": "onnx", "file": str(p.resolve())})
