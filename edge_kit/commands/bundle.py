"""`edgekit bundle`: the assets an Android app drops in, made to the app's contract (edge_kit.apps)."""
from __future__ import annotations

import argparse
import json

from edge_kit import formats


def run(args) -> int:
    from edge_kit.apps.check import check_bundle
    from edge_kit.bundle import bundle
    from edge_kit.commands.convert import user_options
    from edge_kit.errors import EdgekitError

    if args.check_only:
        result = check_bundle(args.check_only)
        _print_check(result)
        return 0 if result["status"] == "passed" else 1
    if not args.app:
        raise EdgekitError("give --app (or --check-only BUNDLE_DIR)")
    dest = bundle(args.model, app=args.app, out_dir=args.output, precision=args.precision,
                  lite_target=args.lite_target, paddle_model=args.paddle_model, onnx=args.onnx,
                  weights=args.weights, seed=args.seed, check=args.check,
                  options=user_options(args))
    info = json.loads((dest / "edgekit_bundle.json").read_text())
    print(f"{dest}: {info['app_title']} bundle of {info['model']} ({info['artifact']}, parity {info['parity']})")
    for f in sorted(p for p in dest.rglob("*") if p.is_file()):
        print(f"  {f.relative_to(dest)}  ({f.stat().st_size / 1e6:.2f} MB)")
    for e in info["edits"]:
        print(f"  EDIT {e['file']}:{e['line']}: {e['old']}  ->  {e['new']}")
    if args.check:
        _print_check(json.loads((dest / "edgekit_check" / "result.json").read_text()))
    return 0


def _print_check(result: dict) -> None:
    print(f"check {result['status'].upper()} ({result['title']}, replayed on {result['replayed_on']}): "
          f"{result['reason']}")
    if "app_shows" in result:
        print(f"  app shows: {result['app_shows']}")
        print(f"  reference: {result['reference_top']}")


def register(sub) -> None:
    from edge_kit.apps import APP_NAMES

    p = sub.add_parser("bundle", help="assets for a Paddle-Lite demo app or a TFLite Task Library app, made to "
                                      "the app's contract",
                       description="""Write the files an Android app drops in, made to what the app's own source reads
(edge_kit/apps): Paddle-Lite-Demo's classification, detection (YOLO and PicoDet demos) and segmentation
apps, the PaddleX Android SDK, the TFLite Task Library, or MediaPipe Tasks. The graph is adapted where the app demands it, the edits the
app needs are listed in APP_EDITS.md, and only verified artifacts are bundled. --check replays the
app's pre- and post-processing on the x86 twin / TFLite and fails on a contract break.\n\nexamples:
  edgekit bundle MobileNetV3_small_ssld --app plite-cls-cxx --check -o bundles/
  edgekit bundle FastSCNN --app tflite-task --check -o bundles/
  edgekit bundle --check-only bundles/MobileNetV3_small_ssld-plite-cls-cxx\n""",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help="zoo model name")
    p.add_argument("--app", choices=list(APP_NAMES),
                   help="plite-cls-cxx/-java, plite-seg-cxx/-java, plite-yolo, plite-picodet (Paddle-Lite-Demo), "
                        "tflite-task-classifier/-segmenter, mediapipe-classifier/-segmenter; paddlelite-demo / "
                        "tflite-task / mediapipe / paddlex-sdk pick by the model's task")
    p.add_argument("--check", action="store_true",
                   help="replay the app's pre/post-processing on the x86 twin and fail on a contract break")
    p.add_argument("--check-only", metavar="BUNDLE_DIR", help="check an existing bundle directory")
    p.add_argument("--paddle-model", metavar="DIR")
    p.add_argument("--onnx", metavar="FILE")
    p.add_argument("--precision", default="fp32", choices=list(formats.FLOAT_PRECISIONS))
    p.add_argument("--lite-target", default="arm", choices=list(formats.LITE_TARGETS))
    p.add_argument("--weights", metavar="FILE.pdparams")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default="bundles", help="where to write the bundle (default: %(default)s)")
    from edge_kit.commands.convert import add_user_model_flags

    add_user_model_flags(p)
    p.set_defaults(func=run)
