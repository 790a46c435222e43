"""`edgekit bundle`: the assets an Android demo app drops in (Paddle-Lite demo or TFLite Task Library)."""
from __future__ import annotations

import json


def run(args) -> int:
    from edge_kit.bundle import bundle

    from edge_kit.commands.convert import user_options

    dest = bundle(args.model, app=args.app, out_dir=args.output, precision=args.precision,
                  lite_target=args.lite_target, paddle_model=args.paddle_model, onnx=args.onnx,
                  weights=args.weights, seed=args.seed, options=user_options(args))
    info = json.loads((dest / "edgekit_bundle.json").read_text())
    print(f"{dest}: {info['app']} bundle of {info['model']} ({info['artifact']}, parity {info['parity']})")
    for f in sorted(p for p in dest.rglob("*") if p.is_file()):
        print(f"  {f.relative_to(dest)}  ({f.stat().st_size / 1e6:.2f} MB)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("bundle", help="assets for a Paddle-Lite demo app or a TFLite Task Library app")
    p.add_argument("model", nargs="?", help="zoo model name")
    p.add_argument("--app", required=True, choices=["paddlelite-demo", "tflite-task"])
    p.add_argument("--paddle-model", metavar="DIR")
    p.add_argument("--onnx", metavar="FILE")
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16"])
    p.add_argument("--lite-target", default="arm", choices=["arm", "opencl"])
    p.add_argument("--weights", metavar="FILE.pdparams")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default="bundles", help="where to write the bundle (default: %(default)s)")
    from edge_kit.commands.convert import add_user_model_flags

    add_user_model_flags(p)
    p.set_defaults(func=run)
