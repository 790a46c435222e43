"""The conversion pipeline: source -> Paddle reference -> Paddle-Lite .nb / ONNX -> TFLite, each artifact
verified against the reference and described by a manifest.

    convert("MobileNetV3_small_ssld", to=("paddlelite", "onnx", "tflite"), precisions=("fp32", "fp16"))

Every stage is cached by content (edge_kit.cache); a failed stage is recorded as a failed artifact with
its reason and the other stages go on.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterable, Optional

from edge_kit.cache import publish
from edge_kit.errors import ConversionError, EdgekitError
from edge_kit.manifest import SCHEMA, Artifact, manifest_path
from edge_kit.pipeline import PRECISIONS, Log, Pipeline
from edge_kit.sources import Source, onnx_source, paddle_source, zoo_source

FORMATS = ("paddlelite", "onnx", "tflite")
LITE_TARGETS = ("arm", "opencl")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _inherit_twin(art: Artifact, twin: Artifact) -> None:
    """An ARM/OpenCL .nb cannot run here; it is as trustworthy as the x86 .nb made from the same
    compat-passed program (that checks Paddle's program and Lite's graph passes, not ARM kernels)."""
    twin_status = twin.manifest.get("parity", {}).get("status", "not made")
    art.manifest["parity"] = {
        "status": "not_run",
        "reason": f"{art.target} kernels cannot run on this x86 machine; x86 twin {twin.path.name}: {twin_status}",
        "x86_twin": {"file": twin.path.name, "status": twin_status}}
    if twin_status == "passed":
        art.manifest["status"] = "ok"
    elif twin_status == "failed":
        art.manifest["status"] = "failed"
        art.manifest["parity"]["reason"] += f" ({twin.manifest.get('parity', {}).get('reason', '')})"
    else:
        art.manifest["status"] = "unverified"
    art.save()


def _failed(src: Source, fmt: str, target: str, precision: str, err: EdgekitError) -> Artifact:
    m = {"schema": SCHEMA, "model": src.name, "task": src.task, "format": fmt, "target": target,
         "precision": precision, "file": None, "status": "failed", "reason": str(err),
         "parity": {"status": "not_run", "reason": "conversion failed"}}
    return Artifact(Path(f"{src.name}.{fmt}.{target}.{precision}"), m)


USER_OPTIONS = ("input_shape", "task", "mean", "std", "scale", "labels")


def resolve_source(model: Optional[str] = None, *, paddle_model: Optional[str] = None, onnx: Optional[str] = None,
                   weights: Optional[str] = None, seed: int = 0, options: Optional[dict] = None) -> Source:
    """`options` (a user's model only): input_shape ("x:1,3,640,640" or {name: dims}), task, mean, std,
    scale, labels (a file): they override what the export's own config says."""
    given = [x for x in (model, paddle_model, onnx) if x]
    if len(given) != 1:
        raise EdgekitError("give exactly one of: a zoo MODEL name, --paddle-model DIR, --onnx FILE")
    options = {k: v for k, v in (options or {}).items() if v not in (None, "", [], ())}
    unknown = set(options) - set(USER_OPTIONS)
    if unknown:
        raise EdgekitError(f"unknown option {sorted(unknown)[0]!r}")
    if paddle_model:
        return paddle_source(paddle_model, options)
    if onnx:
        return onnx_source(onnx, options)
    if options:
        raise EdgekitError(f"--{sorted(options)[0].replace('_', '-')} applies to --paddle-model / --onnx; a zoo "
                           "model's shape, preprocessing and task are its own")
    return zoo_source(model, weights=weights, seed=seed)


def convert(model: Optional[str] = None, *, paddle_model: Optional[str] = None, onnx: Optional[str] = None,
            to: Iterable[str] = FORMATS, precisions: Iterable[str] = ("fp32",),
            lite_targets: Iterable[str] = ("arm",), out_dir: Optional[str] = None, weights: Optional[str] = None,
            seed: int = 0, log: Log = _stderr, options: Optional[dict] = None) -> list[Artifact]:
    """Convert one model. Returns the reference plus every requested artifact (check `.ok`)."""
    to, precisions, lite_targets = tuple(to), tuple(precisions), tuple(lite_targets)
    for name, values, allowed in (("format", to, FORMATS), ("precision", precisions, PRECISIONS),
                                  ("paddlelite target", lite_targets, LITE_TARGETS)):
        bad = [v for v in values if v not in allowed]
        if bad:
            raise EdgekitError(f"unknown {name} {bad[0]!r}; choose from {', '.join(allowed)}")
    src = resolve_source(model, paddle_model=paddle_model, onnx=onnx, weights=weights, seed=seed, options=options)
    if src.kind == "onnx" and "paddlelite" in to:
        raise EdgekitError("Paddle-Lite .nb needs a Paddle program; from ONNX edgekit makes onnx and tflite only "
                           "(x2paddle would have to translate the ONNX into a legacy Paddle program first, and it "
                           "is not part of edgekit's toolchain; pass --to onnx,tflite)")
    for key, note in src.origins.get("input_shape", {}).items():
        if key in ("batch", "height_width"):
            log(f"[{src.name}] input {src.input_name!r} {src.declared_shape}: {note}")
    pipe = Pipeline(src, log)
    artifacts = [pipe.reference()]

    def attempt(fmt, target, precision, fn):
        try:
            result = fn()
            artifacts.extend(result if isinstance(result, list) else [result])
        except ConversionError as err:
            log(f"[{src.name}] {fmt} {target} {precision}: FAILED: {err}")
            artifacts.append(_failed(src, fmt, target, precision, err))

    if "paddlelite" in to:
        # The x86 twin is the only .nb this machine can execute: it verifies the graph passes.
        attempt("paddlelite", "x86", "fp32", lambda: pipe.lite("x86", "fp32"))
        twin = artifacts[-1]
        for target in lite_targets:
            for precision in precisions:
                if target == "opencl" and precision == "fp16":
                    continue  # Lite's OpenCL kernels choose fp16 at run time (set_opencl_precision)
                attempt("paddlelite", target, precision, lambda t=target, p=precision: pipe.lite(t, p))
                if artifacts[-1].manifest.get("file"):
                    _inherit_twin(artifacts[-1], twin)
    onnx_art = None
    if "onnx" in to or "tflite" in to:
        attempt("onnx", "cpu", "fp32", lambda: pipe.onnx())
        onnx_art = artifacts[-1] if artifacts[-1].format == "onnx" and artifacts[-1].ok else None
    if "tflite" in to:
        if onnx_art is None:
            err = ConversionError(src.name, "tflite", "onnx2tf", "needs a verified ONNX artifact, which failed")
            artifacts.extend(_failed(src, "tflite", "cpu", p, err) for p in precisions)
        else:
            before = len(artifacts)
            attempt("tflite", "cpu", "fp32+fp16", lambda: pipe.tflite(onnx_art))
            made = artifacts[before:]
            artifacts[before:] = [a for a in made if a.manifest.get("file") is None or a.precision in precisions]
    if out_dir:
        artifacts = [_publish(a, Path(out_dir) / src.name) for a in artifacts]
    return artifacts


def _publish(art: Artifact, dest_dir: Path) -> Artifact:
    from edge_kit.manifest import atomic_write_text

    if art.manifest.get("file") is None:  # a failed stage: write its manifest so the reason is on disk
        dest = dest_dir / art.path.name
        dest_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(manifest_path(dest), json.dumps(art.manifest, indent=2) + "\n")
        return Artifact(dest, art.manifest)
    sub = dest_dir / "paddle" if art.format == "paddle" else dest_dir
    files = [art.path]
    if art.format == "paddle":
        files.append(art.path.with_suffix(".pdiparams"))
    for f in files:
        publish(f, sub / f.name)
    publish(manifest_path(art.path), manifest_path(sub / art.path.name))
    return Artifact(sub / art.path.name, art.manifest)
