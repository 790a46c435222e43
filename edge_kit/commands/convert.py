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

    models = args.model or [None]
    if len(models) > 1:
        return _run_many(args, models)
    arts = convert(models[0], paddle_model=args.paddle_model, onnx=args.onnx, **_common(args),
                   options=user_options(args))
    if args.json:
        print(json.dumps(_json(arts, args), indent=2, default=str))
        return 3 if _failed(arts) else 0
    print(_report(arts, args), end="")
    return 3 if _failed(arts) else 0


def _common(args) -> dict:
    return dict(to=_csv(args.to), precisions=_csv(args.precision), lite_targets=_csv(args.lite_target),
                out_dir=args.output, weights=args.weights, seed=args.seed, arm_check=args.arm_check,
                calib=args.calib, int8_io=args.int8_io)


def _failed(arts) -> list:
    return [a for a in arts if not a.ok and a.format != "paddle"]


def _where(args):
    return Path(args.output).resolve() if args.output else "the cache"


def _json(arts, args) -> dict:
    failed = _failed(arts)
    return {"model": arts[0].model, "output": str(_where(args)), "failed": len(failed), "seconds": arts.seconds,
            "stages": arts.stages, "artifacts": [{"path": str(a.path), **a.manifest.to_dict()} for a in arts]}


def _report(arts, args) -> str:
    """One model's block: the reference and its artifacts, the time line, and what failed."""
    failed = _failed(arts)
    # the first row is the Paddle reference the others were checked against; it is not an artifact
    lines = [f"{arts[0].model}: the reference and {len(arts) - 1} artifact(s) in {_where(args)}"]
    lines += [_line(art) for art in arts]
    lines.append(_timing(arts))
    if failed:
        lines.append(f"edgekit: error: {len(failed)} artifact(s) failed: " +
                     ", ".join(f"{a.format}/{a.target}/{a.precision}" for a in failed))
    return "\n".join(lines) + "\n"


def _run_many(args, models: list[str]) -> int:
    """Several zoo models, `--jobs` at a time (edge_kit.conversion.many). Each model's block is printed
    whole when it finishes; a model that cannot be converted is one error line and the others go on."""
    import sys
    import time

    from edge_kit.conversion.many import convert_many
    from edge_kit.errors import EdgekitError

    if args.paddle_model or args.onnx:
        raise EdgekitError("several models are zoo names; convert --paddle-model / --onnx one at a time")
    if any(v for v in user_options(args).values()):
        raise EdgekitError("--input-shape, --task, --mean, --std, --scale and --labels apply to one "
                           "--paddle-model / --onnx")

    def done(outcome) -> None:
        if outcome.error is not None:
            print(f"edgekit: error: {outcome.model}: {outcome.error}", file=sys.stderr, flush=True)
        elif not args.json:
            print(_report(outcome.conversion, args), end="", flush=True)

    t0 = time.perf_counter()
    outcomes = convert_many(models, jobs=args.jobs, on_done=done, **_common(args))
    wall = time.perf_counter() - t0
    errors = [o for o in outcomes if not o.ok]
    failed = [o for o in outcomes if o.ok and _failed(o.conversion)]
    if args.json:
        print(json.dumps({"seconds": round(wall, 2), "jobs": args.jobs,
                          "models": [_json(o.conversion, args) if o.ok else {"model": o.model, "error": o.error}
                                     for o in outcomes]}, indent=2, default=str))
    else:
        print(f"{len(outcomes)} models, {args.jobs} at a time: {wall:.1f} s wall; "
              f"{len(outcomes) - len(errors) - len(failed)} fully verified, {len(failed)} with failed "
              f"artifacts, {len(errors)} not converted")
    return 2 if errors else 3 if failed else 0


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a model into verified Paddle-Lite / ONNX / TFLite artifacts",
                       description="""Convert a zoo model, your exported Paddle inference model (--paddle-model) or an ONNX file (--onnx)
into Paddle-Lite .nb, ONNX and TFLite files. Every file is run on the same images as the Paddle reference
where this machine can run it, and gets a <file>.manifest.json with the verdict. Exit status 3 if any
artifact failed its check.\n\nexamples:\n  edgekit convert MobileNetV3_small_ssld -o out/\n  edgekit convert MobileNetV2 --to tflite --precision fp32,fp16 -o out/ --json\n  edgekit convert YOLOv3-MobileNetV1 MobileNetV2 ShuffleNetV2 --jobs 2 -o out/\n  edgekit convert --paddle-model my_export/ --to paddlelite --lite-target arm,opencl -o out/\n""",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="*", help="zoo model name(s) (see `edgekit models`); several convert side by side "
                   "(--jobs)")
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
    p.add_argument("--jobs", type=int, default=2, metavar="N",
                   help="with several models: how many convert at the same time (default: %(default)s; each "
                        "conversion already runs its tools in child processes)")
    add_user_model_flags(p)
    p.set_defaults(func=run)
