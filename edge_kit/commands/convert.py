"""`edgekit convert`: a zoo model, a Paddle inference model or an ONNX file -> verified artifacts."""
from __future__ import annotations

import argparse
import json

from pathlib import Path

from edge_kit import formats


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _line(art) -> str:
    from edge_kit.parity_text import render

    m = art.manifest
    status = "ok  " if art.ok else "FAIL"
    what = f"{m.format:<10} {m.target:<6} {m.precision:<5}"
    if m.file is None:
        return f"  {status} {what} {m.reason or ''}"
    detail = render(m, "line")
    if m.accepts:
        detail += f" [input {m.accepts['input']} {m.accepts['shape']}]"
    line = f"  {status} {what} {m.bytes / 1e6:8.2f} MB  {art.path}  {detail}"
    if m.parity_arm64:
        from edge_kit.arm_check import summary

        line += f"\n{'':7}{summary(m.parity_arm64)}"
    return line


def _timing(conversion) -> str:
    """One line: each stage this run built, slowest first, and the wall time; cached stages counted."""
    built = sorted((s for s in conversion.stages if not s["cached"]), key=lambda s: -s["seconds"])
    cached = sum(s["cached"] for s in conversion.stages)
    parts = [f"{s['stage']} {s['seconds']:.1f} s" + ("" if s.get("ok", True) else " (failed)") for s in built]
    if cached:
        parts.append(f"{cached} stage(s) from the cache")
    return f"time: {conversion.seconds:.1f} s wall" + (f" ({'; '.join(parts)})" if parts else "")


def user_options(args) -> dict:
    """The flags that describe a user's model (edge_kit.convert.USER_OPTIONS)."""
    def floats(flag, text):
        if text is None:
            return None
        try:
            vals = [float(v) for v in _csv(text)]
        except ValueError:
            from edge_kit.errors import EdgekitError

            raise EdgekitError(f"--{flag} {text!r}: give numbers separated by commas, e.g. 0.5,0.5,0.5")
        return vals[0] if flag == "scale" else tuple(vals)

    return {"input_shape": args.input_shape, "task": args.task, "mean": floats("mean", args.mean),
            "std": floats("std", args.std), "scale": floats("scale", args.scale), "labels": args.labels}


def add_user_model_flags(p) -> None:
    g = p.add_argument_group("your own model (--paddle-model / --onnx); flags override the export's config")
    g.add_argument("--input-shape", action="append", metavar="NAME:N,C,H,W",
                   help="input shape, e.g. x:1,3,640,640 (or 1,3,640,640 for a one-input model); needed when the "
                        "model's height/width are dynamic; applies to every format")
    g.add_argument("--task", help="classification, detection, semantic_segmentation, text_detection, ...")
    g.add_argument("--mean", metavar="M,M,M", help="per-channel mean, after --scale")
    g.add_argument("--std", metavar="S,S,S", help="per-channel std")
    g.add_argument("--scale", metavar="F", help="pixel multiplier before mean/std (e.g. 0.00392157 = 1/255)")
    g.add_argument("--labels", metavar="FILE", help="class names, one per line")


def run(args) -> int:
    from edge_kit.convert import convert
    from edge_kit.errors import EdgekitError

    for flag, text, allowed in (("--to", args.to, formats.CONVERT_FORMATS), ("--precision", args.precision,
                                                                           formats.PRECISIONS)):
        if not _csv(text):  # `--to ''` must not "succeed" with nothing made (the API's to=() is the reference)
            raise EdgekitError(f"{flag} names nothing; choose from {', '.join(allowed)}")

    arts = convert(args.model, paddle_model=args.paddle_model, onnx=args.onnx, to=_csv(args.to),
                   precisions=_csv(args.precision), lite_targets=_csv(args.lite_target), out_dir=args.output,
                   weights=args.weights, seed=args.seed, arm_check=args.arm_check, calib=args.calib,
                   int8_io=args.int8_io, options=user_options(args))
    failed = [a for a in arts if not a.ok and a.format != "paddle"]
    where = Path(args.output).resolve() if args.output else "the cache"
    if args.json:
        print(json.dumps({"model": arts[0].model, "output": str(where), "failed": len(failed),
                          "seconds": arts.seconds, "stages": arts.stages,
                          "artifacts": [{"path": str(a.path), **a.manifest.to_dict()} for a in arts]}, indent=2, default=str))
        return 3 if failed else 0
    # the first row is the Paddle reference the others were checked against; it is not an artifact
    print(f"{arts[0].model}: the reference and {len(arts) - 1} artifact(s) in {where}")
    for art in arts:
        print(_line(art))
    print(_timing(arts))
    if failed:
        print(f"edgekit: error: {len(failed)} artifact(s) failed: " +
              ", ".join(f"{a.format}/{a.target}/{a.precision}" for a in failed))
        return 3
    return 0


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a model into verified Paddle-Lite / ONNX / TFLite artifacts",
                       description="""Convert a zoo model, your exported Paddle inference model (--paddle-model) or an ONNX file (--onnx)
into Paddle-Lite .nb, ONNX and TFLite files. Every file is run on the same images as the Paddle reference
where this machine can run it, and gets a <file>.manifest.json with the verdict. Exit status 3 if any
artifact failed its check.\n\nexamples:\n  edgekit convert MobileNetV3_small_ssld -o out/\n  edgekit convert MobileNetV2 --to tflite --precision fp32,fp16 -o out/ --json\n  edgekit convert --paddle-model my_export/ --to paddlelite --lite-target arm,opencl -o out/\n""",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help="zoo model name (see `edgekit models`)")
    p.add_argument("--paddle-model", metavar="DIR", help="an exported Paddle inference model directory")
    p.add_argument("--onnx", metavar="FILE", help="an ONNX model")
    p.add_argument("--to", default=",".join(formats.DEFAULT_CONVERT_FORMATS),
                   help=f"formats: {','.join(formats.CONVERT_FORMATS)} (default: %(default)s; `edgekit formats` "
                        "lists them)")
    p.add_argument("--precision", default="fp32", help=f"{','.join(formats.PRECISIONS)} (default: %(default)s)")
    p.add_argument("--calib", metavar="PATH", help="int8 calibration set: a folder of images (preprocessed as the "
                   "manifest says) or a .npy of preprocessed (N, C, H, W) inputs; at least 8")
    p.add_argument("--int8-io", action="store_true", help="int8 TFLite with int8 input/output (scale and zero-point "
                   "in the manifest); default: float I/O")
    p.add_argument("--lite-target", default="arm", help=f"Paddle-Lite targets: {','.join(formats.LITE_TARGETS)} (default: %(default)s);"
                   " an x86 .nb is always made too, to check numbers on this machine")
    p.add_argument("--weights", metavar="FILE.pdparams", help="real weights for a zoo model (default: untrained)")
    p.add_argument("--seed", type=int, default=0, help="seed of the untrained weights")
    p.add_argument("--arm-check", action="store_true",
                   help="also run each TFLite file on aarch64 kernels under qemu (cortex-a76) and record an "
                        "'arm64 (emulated)' parity entry; needs scripts/setup_arm_env.sh; never timed")
    p.add_argument("-o", "--output", metavar="DIR", help="where to put the artifacts (default: only the cache)")
    p.add_argument("--json", action="store_true", help="print every artifact's manifest as JSON")
    add_user_model_flags(p)
    p.set_defaults(func=run)
