"""`edgekit report`: the seed's tables with edgekit's measured columns, as Markdown, CSV and a PNG."""
from __future__ import annotations

import argparse


def run(args) -> int:
    from edge_kit.report import render_report

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    for path in render_report(args.results_dir, formats, args.output):
        print(path)
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="render bench_results/ into the seed's tables and a PNG",
                       description=__doc__ + "\nexamples:\n  edgekit report\n  edgekit report --format md,png -o /tmp/report\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", default="md,csv,png", help="comma-separated: md,csv,png (default all)")
    p.add_argument("-o", "--output", metavar="DIR", help="where to write (default: the results directory)")
    p.add_argument("--results-dir", default="bench_results", help="where results.jsonl lives")
    p.set_defaults(func=run)
