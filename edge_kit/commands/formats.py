"""`edgekit formats`: what edgekit makes and runs, from the one table in edge_kit.formats."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict


def run(args: argparse.Namespace) -> int:
    from edge_kit import formats

    if args.json:
        print(json.dumps({"formats": [asdict(f) for f in formats.FORMATS],
                          "runtimes": [asdict(r) for r in formats.RUNTIMES]}, indent=2))
    else:
        print(formats.markdown_table())
    return 0


def register(sub) -> None:
    p = sub.add_parser("formats", help="list the artifact formats, their targets, precisions and runtimes",
                       description=__doc__, epilog="examples:\n  edgekit formats\n  edgekit formats --json\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="the whole table (formats and runtimes) as JSON")
    p.set_defaults(func=run)
