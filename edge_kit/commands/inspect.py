"""`edgekit inspect FILE`: manifest, op histogram and whether the artifact runs on this machine."""
from __future__ import annotations

import json


def run(args) -> int:
    from edge_kit.inspect_artifact import inspect, render

    info = inspect(args.file)
    print(json.dumps(info, indent=2, default=str) if args.json else render(info))
    return 0 if info.get("sha256_matches_manifest", True) else 1


def register(sub) -> None:
    p = sub.add_parser("inspect", help="show an artifact's manifest, ops and whether it runs here")
    p.add_argument("file", help=".nb, .tflite, .onnx or .pdmodel")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
