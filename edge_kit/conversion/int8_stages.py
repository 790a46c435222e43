"""The int8 stages of a conversion: full-integer TFLite and a Paddle-Lite int8 `.nb`, both from a
calibration set (edge_kit.datasets), each cached by content (the calibration data's sha256 included)
and checked against the fp32 Paddle reference by the task metric.

Why the task metric: int8 moves every output a little, so the tight fp32 tensor gates cannot hold;
what matters is whether the answer changes (top-1/top-5 for classifiers, AP50 for boxes, mIoU for label
maps). The per-output tensor error is recorded beside it. On the zoo's untrained weights this measures
the damage quantization does to *these* outputs, not accuracy on real data (`edgekit eval` does that).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from converters.isolate import run_forked, run_isolated
from edge_kit.conversion.cache import building, entry_dir, entry_key
from edge_kit.datasets import Calibration
from edge_kit.manifest import Artifact, manifest_path
from edge_kit.parity import compare
from edge_kit.conversion.stages import (PADDLE_PRELOAD, TFLITE_PRELOAD, Pipeline, _versions, onnx2tf_calibration,
                                        refuse_tflite_for_deform_conv)

UNTRAINED_NOTE = ("int8 vs the fp32 reference on {images}: on untrained weights this measures the damage "
                  "quantization does to these outputs only, not accuracy on real data (use `edgekit eval`)")


INT8_PARITY_IMAGES = 64  # 8 images give top-1 agreement in steps of 12.5%: too coarse to judge int8


def int8_parity_inputs(pipe: Pipeline, fmt: str) -> tuple[np.ndarray, str]:
    """More images than the fp32 parity set, so a top-1 agreement means something. An untrained detector
    keeps the reference's own images (its scores are detector-like only on those, see Source)."""
    from edge_kit.images import natural_images, preprocess

    if pipe.src.task == "detection" and pipe.src.kind == "zoo" and not pipe.src.weights:
        x = pipe.ref_inputs(fmt)
        return x, f"{len(x)} images the untrained detector's objectness prior was calibrated on"
    _, _, h, w = pipe.src.input_shape
    x = preprocess(natural_images(INT8_PARITY_IMAGES, h, w, seed=43), pipe.src.preprocess)
    return x, f"{len(x)} natural-looking images (edge_kit.images, seed 43), none of them in the calibration set"


def _note(pipe: Pipeline, manifest: dict) -> None:
    parity = manifest.get("parity", {})
    weights = str((pipe.src.describe or {}).get("weights", ""))
    parity["note"] = (UNTRAINED_NOTE.format(images=parity.get("images", "the parity images"))
                      if weights.startswith("untrained") else
                      "int8 vs the fp32 reference by the task metric; per-output tensor error in metrics.outputs")


def tflite_int8(pipe: Pipeline, onnx_artifact: Artifact, calib: Calibration, int8_io: bool = False) -> Artifact:
    from converters import tflite
    from converters.tflite_int8 import child_onnx_to_tflite_int8, quantization_of

    refuse_tflite_for_deform_conv(pipe.src.name, onnx_artifact)

    io = "int8io" if int8_io else "floatio"
    name = f"{pipe.src.name}.int8.tflite" if not int8_io else f"{pipe.src.name}.int8-io.tflite"
    shapes = pipe._tflite_shapes(onnx_artifact)  # TFLite has no dynamic dims: the verified shape, as for fp32
    key = entry_key(stage="tflite-int8", onnx=onnx_artifact.manifest["sha256"], calib=calib.sha256, io=io,
                    tools=_versions("onnx2tf", "tensorflow"), **({"input_shapes": shapes} if shapes else {}))
    final = entry_dir("tflite-int8", key) / name
    stage = f"tflite int8 ({io})"
    if not manifest_path(final).exists():
        with pipe._timed(stage, f"onnx2tf + TFLiteConverter, {len(calib.data)} calibration inputs"), \
                building("tflite-int8", key) as work:
            t0 = time.time()
            np.save(work / "calib.npy", calib.data)
            onnx2tf_calibration(work)
            # forked from the TFLite stage's server: TensorFlow is imported already (converters.isolate.ForkServer)
            made = run_forked(child_onnx_to_tflite_int8,
                              {"onnx_file": str(onnx_artifact.path), "workdir": str(work),
                               "calib_npy": str(work / "calib.npy"), "out_file": str(work / name),
                               "int8_io": int8_io, **({"input_shapes": shapes} if shapes else {})},
                              TFLITE_PRELOAD, model=pipe.src.name, stage="tflite int8",
                              tool="onnx2tf + TFLiteConverter", cwd=work)
            (work / "calib.npy").unlink()
            (work / tflite.CALIBRATION_NAME).unlink(missing_ok=True)
            ins, outs, ops = tflite.tflite_io_and_ops(work / name)
            m = pipe._manifest("tflite", "cpu", "int8", work / name, ins, outs,
                               _versions("onnx2tf", "tensorflow", "ai-edge-litert"), time.time() - t0)
            m["ops"] = ops
            m["onnx_passes"] = made.get("passes", {})
            m["weights_precision"] = "int8"
            m["quantization"] = {"scheme": "full integer: int8 weights (per-channel) and int8 activations",
                                 "io": "int8 (quantize inputs / dequantize outputs with the scale and zero-point "
                                       "below)" if int8_io else "float32 (quantize/dequantize inside the model)",
                                 "tool": "TFLiteConverter, optimizations=[DEFAULT], supported_ops=[TFLITE_BUILTINS_INT8]",
                                 "calibration": calib.description, **quantization_of(work / name)}
            _verify_int8_tflite(pipe, m, work / name, onnx_artifact, calib)
            _note(pipe, m)
            Artifact(work / name, m).save()
    else:
        pipe._cached(stage)
    return Artifact.load(final)


def _verify_int8_tflite(pipe: Pipeline, m: dict, path: Path, onnx_artifact: Artifact, calib: Calibration) -> None:
    """int8 TFLite vs the fp32 ONNX artifact (itself verified against Paddle Inference to fp32 tolerance)
    on the int8 parity images, by the task metric."""
    from edge_kit.infer import run_artifact

    x, images = int8_parity_inputs(pipe, "tflite")
    try:
        ref = run_artifact("onnx", "cpu", onnx_artifact.path, [x])
        got = run_artifact("tflite", "cpu", path, [x])
    except Exception as exc:  # the runtime rejected the file: the artifact is unusable
        m["parity"] = {"status": "failed", "reason": f"runtime error: {type(exc).__name__}: {exc}"}
        m["status"] = "failed"
        return
    result = compare(pipe.src.task, "int8", ref, got, graph=m["graph"], input_hw=tuple(pipe.src.input_shape[2:]))
    onnx_parity = onnx_artifact.manifest.get("parity", {})
    cos = min((o["cosine"] for o in onnx_parity.get("metrics", {}).get("outputs", [])), default=None)
    result["reference"] = (f"the fp32 ONNX artifact {onnx_artifact.path.name} run by onnxruntime (parity "
                           f"{onnx_parity.get('status')} against Paddle Inference" +
                           (f", cosine {cos:.7f})" if cos is not None else ")"))
    result["images"] = images
    if result["status"] == "failed" and pipe.src.task in ("classification", "semantic_segmentation", "detection"):
        from edge_kit.int8_baseline import apply_baseline, run_onnx_int8_baseline

        pipe.log(f"[{pipe.src.name}] tflite int8 misses its gate: scoring an independent int8 baseline (onnxruntime)")
        base = run_onnx_int8_baseline(onnx_artifact.path, calib.data, x)
        apply_baseline(result, compare(pipe.src.task, "int8", ref, base, graph=m["graph"],
                                       input_hw=tuple(pipe.src.input_shape[2:])))
    m["parity"] = result
    m["status"] = "ok" if result["status"] == "passed" else "failed"


def lite_int8(pipe: Pipeline, calib: Calibration, target: str = "arm") -> Artifact:
    """Paddle's post-training quantization -> compat passes -> Opt (int8 ARM kernels). Lite's x86 kernels
    compute quantized models wrongly, so the check is Paddle's simulated-quantization program (the
    quantized program PTQ writes, run by Paddle Inference) against the fp32 reference; the .nb is trusted
    as far as that program and Opt go, the ARM kernels only a phone can check."""
    from converters import paddle_lite
    from converters.paddle_compat import make_lite_compatible
    from converters.paddle_ptq import child_ptq
    from converters.paddle_source import LEGACY_ENV, load_outputs, program_io
    from edge_kit.conversion.reference import child_reference_outputs

    name = f"{pipe.src.name}.{target}.int8.nb"
    ref = pipe.ref_dir("paddlelite")
    key = entry_key(stage="paddlelite-int8", ref=ref.name, target=target, calib=calib.sha256,
                    tools=_versions("paddlepaddle", "paddlelite"))
    final = entry_dir("paddlelite-int8", key) / name
    stage = f"paddlelite {target} int8"
    if not manifest_path(final).exists():
        with pipe._timed(stage, f"Paddle PTQ ({len(calib.data)} inputs) + Opt"), \
                building("paddlelite-int8", key) as work:
            t0 = time.time()
            np.save(work / "calib.npy", calib.data)
            qdir = work / "quant"
            ptq = run_isolated(child_ptq,
                               {"program": str(ref / "reference.pdmodel"), "params": str(ref / "reference.pdiparams"),
                                "calib_npy": str(work / "calib.npy"), "out_dir": str(qdir)},
                               model=pipe.src.name, stage=f"paddlelite {target} int8", tool="paddle PTQ",
                               env=LEGACY_ENV)
            # Paddle's simulated quantization and the fp32 program on the int8 parity images: what the .nb's
            # check stands on. oneDNN off for both: Paddle 3.3's oneDNN executor failed on the simulated program
            # of PaddleOCR's direction classifier ("could not create a primitive descriptor for a binary
            # operation primitive"); the plain CPU kernels run the fake-quant ops as written.
            x, images = int8_parity_inputs(pipe, "paddlelite")
            np.savez(work / "int8_inputs.npz", image=x)
            for prog, params, out in ((qdir / "model.pdmodel", qdir / "model.pdiparams", "simquant.npz"),
                                      (ref / "reference.pdmodel", ref / "reference.pdiparams", "fp32.npz")):
                run_isolated(child_reference_outputs,
                             {"program": str(prog), "params": str(params), "inputs_npz": str(work / "int8_inputs.npz"),
                              "out_npz": str(work / out), "mkldnn": False},
                             model=pipe.src.name, stage="int8 simulated-quantization check", tool="Paddle Inference",
                             env=LEGACY_ENV)
            program, changes = make_lite_compatible((qdir / "model.pdmodel").read_bytes())
            (work / "program.pdmodel").write_bytes(program)
            run_isolated(paddle_lite.child_opt,
                         {"program": str(work / "program.pdmodel"), "params": str(qdir / "model.pdiparams"),
                          "out_stem": str(work / name[:-3]), "target": target, "fp16": False},
                         model=pipe.src.name, stage=f"paddlelite {target} int8", tool="paddlelite Opt")
            ins, outs, _ = program_io(ref / "reference.pdmodel")
            m = pipe._manifest("paddlelite", target, "int8", work / name, ins, outs,
                               _versions("paddlepaddle", "paddlelite"), time.time() - t0)
            m["compat_passes"] = changes
            m["valid_places"] = paddle_lite.VALID_PLACES[target]
            m["quantization"] = {"scheme": "Paddle post-training quantization: int8 weights "
                                           "(channel_wise_abs_max) and activations", **ptq,
                                 "calibration": calib.description}
            sim = load_outputs(str(work / "simquant.npz"))
            result = compare(pipe.src.task, "int8", load_outputs(str(work / "fp32.npz")), sim, graph=m["graph"],
                             input_hw=tuple(pipe.src.input_shape[2:]))
            result["reference"] = "Paddle Inference on the fp32 source program"
            result["checked"] = ("Paddle's simulated-quantization program (what PTQ wrote, run by Paddle Inference),"
                                 " not the .nb: Paddle-Lite's x86 kernels compute quantized models wrongly and the "
                                 f"{target.upper()} int8 kernels cannot run on this machine")
            result["images"] = images
            if result["status"] == "failed" and pipe.src.task in LITE_BASELINE_TASKS and len(ins) == 1:
                _lite_baseline(pipe, result, work, ref, calib, x, load_outputs(str(work / "fp32.npz")), m["graph"])
            m["parity"] = result
            _note(pipe, m)
            m["status"] = "ok" if result["status"] == "passed" else "failed"
            for f in ("program.pdmodel", "calib.npy", "simquant.npz", "fp32.npz", "int8_inputs.npz", BASELINE_ONNX):
                (work / f).unlink(missing_ok=True)
            import shutil

            shutil.rmtree(qdir, ignore_errors=True)
            Artifact(work / name, m).save()
    else:
        pipe._cached(stage)
    return Artifact.load(final)


# The .nb's deploy graph is checked as Paddle runs it; a detector's takes im_shape/scale_factor beside the image,
# which the onnxruntime baseline does not feed: detectors keep the plain gate here (their TFLite file has the rule).
LITE_BASELINE_TASKS = ("classification", "semantic_segmentation")
BASELINE_ONNX = "baseline_fp32.onnx"


def _lite_baseline(pipe: Pipeline, result: dict, work: Path, ref: Path, calib: Calibration, x: np.ndarray,
                   fp32: list, graph: str) -> None:
    """The TFLite file's baseline rule for the .nb's simulated-quantization check: the same fp32 program, exported
    by paddle2onnx and quantized by onnxruntime (a quantizer independent of Paddle's PTQ), on the same calibration
    set and images, scored against the same fp32 Paddle outputs. Paddle's PTQ is not TFLite's: its activations
    are symmetric (abs-max, "avg" over the calibration batches) where TFLite's and onnxruntime's are min/max with
    a zero point, so on untrained weights it can land on either side of TFLite's file."""
    from converters import onnx_export
    from converters.errors import ConversionError
    from edge_kit.int8_baseline import apply_baseline, run_onnx_int8_baseline

    pipe.log(f"[{pipe.src.name}] paddlelite int8 misses its gate: scoring an independent int8 baseline (onnxruntime)")
    try:
        run_forked(onnx_export.child_paddle_to_onnx,
                   {"program": str(ref / "reference.pdmodel"), "params": str(ref / "reference.pdiparams"),
                    "out_file": str(work / BASELINE_ONNX)}, PADDLE_PRELOAD,
                   model=pipe.src.name, stage="int8 baseline (fp32 program to ONNX)", tool="paddle2onnx")
    except ConversionError as err:  # no baseline: the miss stands
        result["int8_baseline"] = {"error": str(err)}
        return
    base = run_onnx_int8_baseline(work / BASELINE_ONNX, calib.data, x)
    apply_baseline(result, compare(pipe.src.task, "int8", fp32, base, graph=graph,
                                   input_hw=tuple(pipe.src.input_shape[2:])),
                   what="the same fp32 program exported by paddle2onnx and quantized by onnxruntime (QDQ, per-channel "
                        "int8 weights, int8 activations, min/max on the same calibration set), scored against the "
                        "same fp32 Paddle outputs on the same images")

