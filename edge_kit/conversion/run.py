"""The conversion pipeline: source -> Paddle reference -> Paddle-Lite .nb / ONNX -> TFLite, each artifact
verified against the reference and described by a manifest.

    convert("MobileNetV3_small_ssld", to=("paddlelite", "onnx", "tflite"), precisions=("fp32", "fp16"))

Every stage is cached by content (edge_kit.conversion.cache); a failed stage is recorded as a failed artifact with
its reason and the other stages go on.
"""
from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Optional

from edge_kit import formats
from edge_kit.conversion.cache import publish
from edge_kit.conversion.graphs import graph_for_format
from edge_kit.errors import ConversionError, EdgekitError, OutputDirError
from edge_kit.manifest import SCHEMA, Artifact, Manifest, manifest_path
from edge_kit.conversion.stages import PRECISIONS, Log, Pipeline  # noqa: F401 (re-exported)
from edge_kit.conversion.sources import Source, onnx_source, paddle_source, zoo_source

FORMATS = formats.CONVERT_FORMATS
DEFAULT_FORMATS = formats.DEFAULT_CONVERT_FORMATS   # what convert() makes when `to` is not given
LITE_TARGETS = formats.LITE_TARGETS
ALL_PRECISIONS = formats.PRECISIONS  # int8 needs a calibration set (edge_kit.datasets)


class Conversion(list):
    """convert()'s answer: the reference and the artifacts (a list, as before), plus what each stage
    cost this run (`stages`: [{stage, seconds, cached, ok}] in the order they finished) and the wall time."""

    stages: list[dict] = []
    seconds: float = 0.0


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _inherit_twin(art: Artifact, twin: Artifact) -> None:
    """An ARM/OpenCL .nb cannot run here; it is as trustworthy as the x86 .nb made from the same
    compat-passed program (that checks Paddle's program and Lite's graph passes, not ARM kernels)."""
    twin_status = twin.manifest.get("parity", {}).get("status", "not made")
    own_failure = art.manifest.get("reason") if art.manifest.get("status") == "failed" else None
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
    if own_failure:  # e.g. an fp16 .nb without fp16 kernels: the twin cannot vouch for that
        art.manifest["status"] = "failed"
        art.manifest["parity"]["reason"] += f"; {own_failure}"
    art.save()


def _failed(src: Source, fmt: str, target: str, precision: str, err: EdgekitError) -> Artifact:
    m = Manifest(schema=SCHEMA, model=src.name, task=src.task, format=fmt, target=target, precision=precision,
                 file=None, status="failed", reason=str(err), parity={"status": "not_run", "reason": "conversion failed"},
                 nulls=frozenset({"task", "file"}))
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
            to: Iterable[str] = DEFAULT_FORMATS, precisions: Iterable[str] = ("fp32",),
            lite_targets: Iterable[str] = ("arm",), out_dir: Optional[str] = None, weights: Optional[str] = None,
            seed: int = 0, log: Log = _stderr, arm_check: bool = False, calib: Optional[str] = None,
            int8_io: bool = False, options: Optional[dict] = None, share_cores: bool = False) -> Conversion:
    """Convert one model. Returns the reference plus every requested artifact (check `.ok`), and the
    time of each stage. arm_check: also run every TFLite artifact on aarch64 kernels under emulation
    (edge_kit.arm_check). int8 needs `calib`: a folder of images or a .npy of preprocessed (N, C, H, W) inputs.
    options: a user model's input shape, task and preprocessing (edge_kit.conversion.sources; the CLI's --input-shape,
    --task, --mean, --std, --scale, --labels).
    share_cores: other conversions run beside this one (edge_kit.conversion.many): spend less CPU even where
    it costs this conversion some wall time (a dense model's two reference graphs come from one Paddle
    child instead of two side by side). The artifacts are the same."""
    to, precisions, lite_targets = tuple(to), tuple(precisions), tuple(lite_targets)
    for name, values, allowed in (("format", to, FORMATS), ("precision", precisions, ALL_PRECISIONS),
                                  ("paddlelite target", lite_targets, LITE_TARGETS)):
        bad = [v for v in values if v not in allowed]
        if bad:
            raise EdgekitError(f"unknown {name} {bad[0]!r}; choose from {', '.join(allowed)}")
    from converters.arm_emulation import find_env

    arm_env = find_env() if arm_check else None  # before any work: a missing ARM environment is an error
    src = resolve_source(model, paddle_model=paddle_model, onnx=onnx, weights=weights, seed=seed, options=options)
    if src.kind == "onnx" and "paddlelite" in to:
        # Tried with x2paddle 1.6.0 (PyPI; installs beside the pinned packages) on PaddleOCR's cls ONNX: it
        # writes Paddle code and saves it with paddle.jit.save, which on Paddle 3.3 gives a PIR model.json that
        # Opt cannot read; with FLAGS_enable_pir_api=0 the trace fails in _C_ops.multiply ("must be Value, but
        # got Variable"), the same Paddle 3.3 limit as for PIR exports. It also maps opsets 7-15 only.
        raise EdgekitError("Paddle-Lite .nb needs a Paddle program; from ONNX edgekit makes onnx and tflite only: "
                           "the one ONNX-to-Paddle translator, x2paddle 1.6.0, saves through Paddle 3.3, which "
                           "writes a PIR program that Paddle-Lite 2.13's Opt cannot read (and fails to trace "
                           "under FLAGS_enable_pir_api=0); it also takes ONNX opsets 7-15 only. Pass --to "
                           "onnx,tflite, or convert the Paddle model the ONNX came from with --paddle-model")
    for key, note in src.origins.get("input_shape", {}).items():
        if key in ("batch", "height_width"):
            log(f"[{src.name}] input {src.input_name!r} {src.declared_shape}: {note}")
    calibration = None
    if "int8" in precisions:  # a bad calibration set fails before any conversion starts
        from edge_kit.datasets import load_calibration

        calibration = load_calibration(calib, src.input_shape, src.preprocess)
    elif calib or int8_io:
        raise EdgekitError("--calib and --int8-io apply to --precision int8 only")
    pipe = Pipeline(src, log)
    t0 = time.perf_counter()
    try:
        artifacts = _run_stages(pipe, src, to, precisions, lite_targets, log, calibration, int8_io, share_cores)
        if arm_env is not None:
            from edge_kit.arm_check import check_conversion

            check_conversion(pipe, artifacts, arm_env, log)
    finally:
        pipe.close()
    artifacts.seconds = round(time.perf_counter() - t0, 2)
    if out_dir:
        placed: list[Path] = []
        try:
            artifacts[:] = [_publish(a, Path(out_dir) / src.name, placed) for a in artifacts]
        except (OutputDirError, OSError):
            for f in placed:  # a full disk half-way: keep none of this run's files, as the message says
                try:
                    f.unlink(missing_ok=True)
                except OSError:
                    pass
            raise
    return artifacts


def _run_stages(pipe: Pipeline, src: Source, to: tuple, precisions: tuple, lite_targets: tuple, log: Log,
                calibration=None, int8_io: bool = False, share_cores: bool = False) -> Conversion:
    float_precisions = tuple(p for p in precisions if p != "int8")
    if "tflite" in to and float_precisions and not pipe.reference_is_cached():
        pipe.prewarm_tflite()  # a cold conversion: TensorFlow imports while Paddle exports
    onnx_graph = graph_for_format("onnx", pipe.graphs)
    both = onnx_graph != "deploy" and any(f in to for f in ("onnx", "tflite") + formats.ONNX_DERIVED)
    if both and share_cores:
        try:
            pipe.references(("deploy", onnx_graph))  # one child for both; what it cannot build, the code below does
        except EdgekitError:
            pass  # met again below, per graph, and reported as before
    if both:
        # A dense zoo model has two reference graphs (deploy for .nb, raw for ONNX): export them side by
        # side, each in its own child. A failed raw export is left to the ONNX chain, which meets it
        # again and records it as that chain's failure, as before.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgekit-ref") as side:
            raw = side.submit(pipe.reference, onnx_graph)
            reference = pipe.reference()
            try:
                raw.result()
            except EdgekitError:
                pass
    else:
        reference = pipe.reference()

    def attempt(made: list, fmt, target, precision, fn):
        try:
            result = fn()
            made.extend(result if isinstance(result, list) else [result])
        except ConversionError as err:
            log(f"[{src.name}] {fmt} {target} {precision}: FAILED: {err}")
            made.append(_failed(src, fmt, target, precision, err))

    def lite_chain() -> list[Artifact]:
        made: list[Artifact] = []
        # The x86 twin is the only .nb this machine can execute: it verifies the graph passes.
        attempt(made, "paddlelite", "x86", "fp32", lambda: pipe.lite("x86", "fp32"))
        twin = made[-1]
        for target in lite_targets:
            for precision in precisions:
                if target == "opencl" and precision == "fp16":
                    continue  # Lite's OpenCL kernels choose fp16 at run time (set_opencl_precision)
                if precision == "int8":
                    if target == "opencl":
                        log(f"[{src.name}] paddlelite opencl int8: not made (Lite's OpenCL backend has no int8 "
                            "kernels; the arm int8 .nb is the int8 artifact)")
                        continue
                    from edge_kit.conversion.int8_stages import lite_int8

                    attempt(made, "paddlelite", target, "int8", lambda t=target: lite_int8(pipe, calibration, t))
                    continue
                attempt(made, "paddlelite", target, precision, lambda t=target, p=precision: pipe.lite(t, p))
                if made[-1].manifest.get("file"):
                    _inherit_twin(made[-1], twin)
        return made

    def onnx_chain() -> list[Artifact]:
        made: list[Artifact] = []
        attempt(made, "onnx", "cpu", "fp32", lambda: pipe.onnx())
        onnx_art = made[-1] if made[-1].format == "onnx" and made[-1].ok else None
        if "tflite" in to:
            if onnx_art is None:
                err = ConversionError(src.name, "tflite", "onnx2tf", "needs a verified ONNX artifact, which failed")
                made.extend(_failed(src, "tflite", "cpu", p, err) for p in precisions)
            else:
                if float_precisions:
                    tfl: list[Artifact] = []
                    attempt(tfl, "tflite", "cpu", "fp32+fp16", lambda: pipe.tflite(onnx_art))
                    made.extend(a for a in tfl if a.manifest.get("file") is None or a.precision in precisions)
                if calibration is not None:
                    from edge_kit.conversion.int8_stages import tflite_int8

                    attempt(made, "tflite", "cpu", "int8", lambda: tflite_int8(pipe, onnx_art, calibration, int8_io))
        for fmt in (f for f in formats.ONNX_DERIVED if f in to):  # the table's from-ONNX formats: one generic stage
            target = formats.fmt(fmt).host_target or formats.fmt(fmt).targets[0]
            if onnx_art is None:
                tool = formats.fmt(fmt).from_onnx.tool
                made.append(_failed(src, fmt, target, "fp32",
                                    ConversionError(src.name, fmt, tool, "needs a verified ONNX artifact, which failed")))
            else:
                attempt(made, fmt, target, "fp32", lambda f=fmt: pipe.from_onnx(f, onnx_art))
        return made

    # The .nb chain and the ONNX -> TFLite chain only share the reference: run them side by side. Each
    # stage's tool runs in a child process, so the two chains really use both cores.
    chains = [fn for fn, wanted in ((lite_chain, "paddlelite" in to), (onnx_chain, any(f in to for f in ("onnx", "tflite") + formats.ONNX_DERIVED)))
              if wanted]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="edgekit-stage") as pool:
        results = [f.result() for f in [pool.submit(fn) for fn in chains]]
    artifacts = Conversion([reference] + [a for made in results for a in made])
    artifacts.stages = pipe.stages
    return artifacts


def _publish(art: Artifact, dest_dir: Path, placed: list) -> Artifact:
    from edge_kit.manifest import atomic_write_text

    if art.manifest.get("file") is None:  # a failed stage: write its manifest so the reason is on disk
        dest = dest_dir / art.path.name
        dest_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(manifest_path(dest), json.dumps(art.manifest.to_dict(), indent=2) + "\n")
        placed.append(manifest_path(dest))
        return Artifact(dest, art.manifest)
    sub = dest_dir / "paddle" if art.format == "paddle" else dest_dir
    files = [art.path]
    if art.format == "paddle":
        files.append(art.path.with_suffix(".pdiparams"))
    for f in files + [manifest_path(art.path)]:
        dest = sub / f.name
        placed.append(dest)
        publish(f, dest)
    return Artifact(sub / art.path.name, art.manifest)
