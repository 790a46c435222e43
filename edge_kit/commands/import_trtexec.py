"""`edgekit import-trtexec LOG --model MODEL [--gpu NAME] [--precision P]`: a trtexec run into the GPU column.

Parses trtexec's performance summary (TensorRT 8.0 to 11.x) and appends one record to
bench_results/results.jsonl with its provenance: imported, GPU name, TensorRT version, the log's sha256.
"""
from __future__ import annotations

import argparse

import sys


def run(args) -> int:
    from edge_kit.gpu.records import AlreadyImported, import_trtexec_log
    from edge_kit.report.tables import fmt_ms, gpu_column

    try:
        rec = import_trtexec_log(args.log, args.model, gpu=args.gpu, precision=args.precision,
                                 results_dir=args.results_dir)
    except AlreadyImported as done:
        print(f"edgekit: {done}", file=sys.stderr)
        return 0
    m = rec.measurement
    gpu = m["extra"]["gpu_compute_ms"]
    print(f"imported {rec.model} -> {gpu_column(rec)}: latency median {fmt_ms(m['median_ms'])} ms "
          f"(p90 {fmt_ms(m['p90_ms'])}, p99 {fmt_ms(m['p99_ms'])}), GPU compute median {fmt_ms(gpu['median'])} ms; "
          f"log sha256 {rec.provenance['log_sha256'][:12]}; results: {args.results_dir}/results.jsonl")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import-trtexec", help="import a trtexec log into the GPU column (with its provenance)",
                       description=__doc__, epilog="examples:\n  edgekit import-trtexec run.log --model ResNet50_vd_ssld\n  edgekit import-trtexec r50.fp16.log --model ResNet50_vd_ssld --precision fp16 --gpu 'Tesla T4'\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("log", metavar="LOG", help="trtexec's output, saved (e.g. `trtexec ... 2>&1 | tee run.log`)")
    p.add_argument("--model", required=True, help="the seed model the log ran")
    p.add_argument("--gpu", help="GPU name (default: the log's 'Selected Device')")
    p.add_argument("--precision", choices=["fp32", "fp16", "int8"],
                   help="needed when the log cannot say (TensorRT 11 prints 'Strongly Typed')")
    p.add_argument("--results-dir", default="bench_results", help="where results.jsonl lives")
    p.set_defaults(func=run)
