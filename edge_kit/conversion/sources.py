"""Where a conversion starts: a zoo model, a user's exported Paddle inference model, or an ONNX file.

A Source knows the model's name, task, input shape and preprocessing, and a content key that changes
whenever anything that determines the converted bytes changes (weights, code, shapes).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from edge_kit.errors import ModelFileError, UnsupportedOpError
from edge_kit.images import natural_images, preprocess
from edge_kit.manifest import sha256_file
from edge_kit.zoo.registry import ModelSpec, Preprocess, get_model

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
    input_name: str = "image"
    declared_shape: Optional[list] = None   # the model's own input shape, -1 where dynamic
    origins: dict = field(default_factory=dict)  # where the shape, preprocessing, task and labels came from

    @property
    def parity_task(self) -> str:
        """How parity judges the outputs. A user's model is compared by its task's metric only where edgekit
        knows the output layout (a classifier's scores); everything else (OCR maps, sequences, a toolkit's
        own detection or segmentation outputs) is compared as tensors."""
        if self.kind == "zoo" or self.task == "classification":
            return self.task
        return "tensors"

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
    module (named by a string in the registry, which the conversion fingerprint's import walk cannot
    follow) and what it imports, walked by the same rule (edge_kit.conversion.fingerprint)."""
    from edge_kit.conversion.fingerprint import code_fingerprint

    return code_fingerprint((spec.builder.split(":")[0], "edge_kit.zoo.build", "edge_kit.zoo.init", "edge_kit.images"))


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


def _user_source(kind: str, name: str, inputs: list[dict], cfg, options: dict) -> dict:
    """Shape, preprocessing, task and labels of a user's model: flags, then the export's config, then
    defaults; a dynamic dim that matters with no value is an error (edge_kit.shapes)."""
    from edge_kit.export_config import resolve_preprocess
    from edge_kit.shapes import parse_input_shapes, resolve_shape

    if len(inputs) != 1 or len(inputs[0]["shape"]) != 4:
        raise ModelFileError(f"{name}: edgekit converts image models with one NCHW input; found "
                             f"{[(i['name'], i['shape']) for i in inputs]}")
    given = parse_input_shapes(options.get("input_shape"))
    declared = [int(d) for d in inputs[0]["shape"]]
    shape, shape_origin = resolve_shape(inputs[0]["name"], declared, given, cfg.resize_hw,
                                        cfg.origin.get("resize_hw", cfg.file or ""))
    pre, task, labels, origins = resolve_preprocess(
        cfg, tuple(shape[2:]), mean=options.get("mean"), std=options.get("std"), scale=options.get("scale"),
        task=options.get("task"), labels_file=options.get("labels"))
    origins["input_shape"] = shape_origin
    return {"shape": tuple(shape), "declared": declared, "input_name": inputs[0]["name"], "pre": pre,
            "task": task, "labels": labels, "origins": origins}


def _options_key(options: dict) -> str:
    return repr(sorted((k, v) for k, v in (options or {}).items() if v is not None))


def user_model_name(paddle_model: Optional[str] = None, onnx: Optional[str] = None) -> str:
    """The name a user's model is converted and recorded under (manifests, cache): its model directory's
    name, or the ONNX file's stem."""
    return Path(paddle_model).resolve().name if paddle_model else Path(onnx).stem


def paddle_source(model_dir: str, options: Optional[dict] = None) -> Source:
    """A user's exported Paddle inference model: legacy `.pdmodel` or Paddle 3's PIR `inference.json`, with
    its toolkit's config (edge_kit.export_config) if one is beside it. `options`: input_shape, task, mean,
    std, scale, labels (the CLI flags)."""
    from converters.paddle_source import check_program_file, is_pir, locate_program, program_io
    from edge_kit.export_config import read_export_config

    options = options or {}
    prog, params = locate_program(Path(model_dir))
    check_program_file(prog)
    inputs, _, _ = program_io(prog)
    cfg = read_export_config(Path(model_dir))
    name = user_model_name(paddle_model=model_dir)
    u = _user_source("paddle", name, inputs, cfg, options)
    key = _key("paddle", sha256_file(prog), sha256_file(params), u["shape"], _options_key(options),
               sha256_file(Path(model_dir) / cfg.file) if cfg.file else "")
    return Source("paddle", name, u["task"], u["shape"], u["pre"], key, program=prog,
                  params=params, labels=u["labels"], input_name=u["input_name"], declared_shape=u["declared"],
                  origins=u["origins"],
                  describe={"kind": "paddle", "dir": str(Path(model_dir).resolve()),
                            "program_format": "PIR json (Paddle 3)" if is_pir(prog) else "legacy ProgramDesc (.pdmodel)",
                            "config": cfg.file, "toolkit": cfg.toolkit, "model_yml": cfg.file == "model.yml"})


def onnx_source(path: str, options: Optional[dict] = None) -> Source:
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
    from edge_kit.export_config import read_export_config

    options = options or {}
    inputs, _ = onnx_io(p)
    cfg = read_export_config(p.parent)  # an exported ONNX often sits beside its toolkit's config
    u = _user_source("onnx", p.name, inputs, cfg, options)
    key = _key("onnx", sha256_file(p), u["shape"], _options_key(options),
               sha256_file(p.parent / cfg.file) if cfg.file else "")
    return Source("onnx", user_model_name(onnx=path), u["task"], u["shape"], u["pre"], key, onnx=p, labels=u["labels"],
                  input_name=u["input_name"], declared_shape=u["declared"], origins=u["origins"],
                  describe={"kind": "onnx", "file": str(p.resolve()), "config": cfg.file, "toolkit": cfg.toolkit})
