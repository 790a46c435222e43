"""`edgekit inspect FILE`: manifest, op histogram and whether the artifact runs on this machine."""
from __future__ import annotations

import argparse

import json


def _json(value):
    from edge_kit.jsonrecord import JsonRecord

    return value.to_dict() if isinstance(value, JsonRecord) else str(value)


def run(args) -> int:
    from edge_kit.inspect_artifact import inspect, render

    info = inspect(args.file)
    print(json.dumps(info, indent=2, default=_json) if args.json else render(info))
    return 0 if info.get("sha256_matches_manifest", True) else 1


def register(sub) -> None:
    p = sub.add_parser("inspect", help="show an artifact's manifest, ops and whether it runs here",
                       description="""Show an artifact's manifest (what it is, how it was made, its parity verdict), whether the file still
matches the sha256 its manifest recorded (exit 1 if not), its operators and whether it can run here.\n\nexamples:\n  edgekit inspect out/MobileNetV3_small_ssld/MobileNetV3_small_ssld.arm.fp32.nb\n  edgekit inspect model.tflite --json\n""",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    from edge_kit import formats

    p.add_argument("file", help=", ".join(sfx for f in formats.FORMATS for sfx in f.suffixes))
    p.add_argument("--json", action="store_true", help="print everything as JSON")
    p.set_defaults(func=run)
