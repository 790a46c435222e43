"""`edgekit parity`: the zoo's conversion record, every implemented model converted to every format and
precision with the parity verdict of each artifact; writes parity.md and parity.json.

Conversions come from the cache when they are there (seconds), otherwise they run (about 25 minutes for
the whole zoo on 2 cores). Exit status 1 if any artifact failed its checks.
"""
from __future__ import annotations

import argparse


def run(args) -> int:
    from edge_kit.parity_table import build, write
    from edge_kit.zoo.registry import all_models

    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else \
        [s.name for s in all_models() if s.implemented]
    rows, failed = build(models, log=print)
    if not args.no_write:
        for path in write(rows, failed, args.output):
            print(path)
    for f in failed:
        print("FAILED", f)
    return 1 if failed else 0


def register(sub) -> None:
    p = sub.add_parser("parity", help="the zoo's conversion parity table (bench_results/parity.md)",
                       description=__doc__ + "\nexamples:\n  edgekit parity\n"
                                             "  edgekit parity --models MobileNetV3_small_ssld --no-write\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="", metavar="A,B", help="zoo models (default: every implemented one)")
    p.add_argument("-o", "--output", default="bench_results", metavar="DIR",
                   help="where parity.md and parity.json go (default: %(default)s)")
    p.add_argument("--no-write", action="store_true", help="print the rows only")
    p.set_defaults(func=run)
