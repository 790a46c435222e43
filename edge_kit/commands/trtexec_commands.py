"""`edgekit trtexec-commands [MODELS]`: the exact trtexec line per model and precision, and how to import it.

Prepares each model's ONNX for TensorRT first (static shapes, ops the parser accepts, an fp16 variant,
onnxruntime parity) unless --no-prepare, then prints one `trtexec ... | tee LOG` line and one
`edgekit import-trtexec LOG ...` line per cell. Nothing is run on a GPU here.
"""
from __future__ import annotations

import argparse

import sys

from edge_kit.errors import EdgekitError


def _csv(text):
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def default_models() -> list[str]:
    """The seed rows with a GPU figure (the server models) that edgekit implements."""
    from edge_kit.zoo import all_models

    return [s.name for s in all_models() if s.implemented and s.seed.gpu_ms is not None]


def run(args) -> int:
    from edge_kit.gpu.trtexec_cmd import build_commands

    models = args.models or default_models()
    cmds = build_commands(models, args.output, _csv(args.precision), args.trt, prepare=not args.no_prepare,
                          warmup_ms=args.warmup_ms, iterations=args.iterations, trtexec=args.trtexec)
    for c in cmds:
        state = "" if c.prepared else "  # ONNX not prepared here yet: run without --no-prepare first"
        print(f"# {c.model} {c.precision} (TensorRT {c.trt}){state}")
        print(c.line())
        print(c.import_line())
    if not cmds:
        raise EdgekitError("no models to print commands for")
    print(f"edgekit: {len(cmds)} command(s); run them on a GPU machine, then import each log", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("trtexec-commands", help="print the trtexec command per model and precision (and prepare "
                                                "the ONNX for TensorRT)", description=__doc__, epilog="examples:\n  edgekit trtexec-commands ResNet50_vd_ssld --trt 10\n  edgekit trtexec-commands --precision fp16 --no-prepare\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="MODELS",
                   help="seed model names (default: the implemented models with a seed GPU figure)")
    p.add_argument("--precision", default="fp32,fp16", help="comma-separated: fp32,fp16 (default both)")
    p.add_argument("--trt", default="10", choices=["8.6", "10", "11"], help="TensorRT release of your trtexec "
                   "(the flags differ; default 10)")
    p.add_argument("-o", "--output", default="trt_onnx", help="where the prepared ONNX, engines and logs go "
                                                              "(default trt_onnx/)")
    p.add_argument("--no-prepare", action="store_true", help="print the lines only (paths where the files go)")
    p.add_argument("--warmup-ms", type=int, default=1000, help="trtexec --warmUp in ms (default 1000)")
    p.add_argument("--iterations", type=int, default=500, help="timed queries (default 500)")
    p.add_argument("--trtexec", default="trtexec", help="path of the trtexec binary to print")
    p.set_defaults(func=run)
