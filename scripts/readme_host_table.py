"""Print README's host benchmark table (section "## Benchmarks") and the sentence saying where it was
measured, generated from bench_results/results.jsonl for ONE machine (default: this one).

    .venv/bin/python scripts/readme_host_table.py [--results-dir bench_results] [--machine ID]
    .venv/bin/python scripts/readme_host_table.py --machines     # which machines the file holds
    .venv/bin/python scripts/readme_host_table.py --command      # the bench command that fills every cell

The cells are the report's (edge_kit.report.readme_table): the standing record per cell, "(noisy)" where
the spread stayed above 15% after a re-measure, "failed" / "not measured" where there is no number.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge_kit.errors import EdgekitError  # noqa: E402
from edge_kit.report import readme_table  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results-dir", default="bench_results")
    ap.add_argument("--machine", help="machine id (or a unique prefix) whose records to use (default: this machine)")
    ap.add_argument("--machines", action="store_true", help="list the machines in the results file and exit")
    ap.add_argument("--command", action="store_true", help="print the bench command that measures every cell")
    args = ap.parse_args(argv)
    if args.command:
        print(readme_table.bench_command())
        return 0
    try:
        if args.machines:
            here = readme_table.this_machine()
            for mid, (label, n) in readme_table.machines(args.results_dir).items():
                print(f"{mid}  {n:4d} host records  {label}{'  (this machine)' if mid == here else ''}")
            return 0
        table = readme_table.build(args.results_dir, readme_table.resolve_machine(args.results_dir, args.machine))
    except EdgekitError as err:
        print(f"readme_host_table: {err}", file=sys.stderr)
        return 2
    print(table.provenance)
    print()
    print(table.markdown, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
