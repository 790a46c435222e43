"""`edgekit estimate`: SD855 Paddle-Lite latency estimated from this host's measurements, with the
method's leave-one-out error on the published SD855 figures (edge_kit.estimate)."""
from __future__ import annotations

import argparse

from edge_kit.errors import EdgekitError


def register(sub) -> None:
    p = sub.add_parser("estimate", help="SD855 ms estimated from host measurements, with leave-one-out error",
                       description=__doc__, epilog="examples:\n  edgekit estimate\n  edgekit estimate --results-dir bench_results\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results-dir", default="bench_results", help="where results.jsonl lives (default bench_results)")
    p.set_defaults(func=run)


def run(args) -> int:
    from edge_kit.estimate import MIN_MODELS, calibrate, host_medians, published_figures
    from edge_kit.report import load_records

    records = load_records(args.results_dir)
    host = host_medians(records)
    cals = calibrate(host)
    if not cals:
        cal_models = sorted({p.model for p in published_figures() if p.role == "calibration"})
        raise EdgekitError(f"no estimate: it needs this host's Paddle-Lite fp32 1-thread medians of at least "
                           f"{MIN_MODELS} of {', '.join(cal_models)} in {args.results_dir}/results.jsonl; run "
                           f"`edgekit bench {' '.join(cal_models)} --backend paddlelite --threads 1`")
    cpu = next(((r.device_info or {}).get("cpu_model") for r in records if r.device == "host"), "?")
    print(f"ESTIMATED SD855 Paddle-Lite fp32 ms = factor x this host's Paddle-Lite x86 fp32 1-thread median "
          f"(host: {cpu}; {args.results_dir}/results.jsonl).")
    print("Factor: geometric mean of published SD855 / host over the calibration models (PaddleClas docs, "
          "ImageNet1k Mobile.md). Each estimate below leaves its own model out (leave-one-out).\n")
    print("| threads | factor | model | host ms | LOO estimate ms | published ms | error |")
    print("|---|---|---|---|---|---|---|")
    for t, cal in cals.items():
        errs = cal.errors()
        for m, (est, pub) in cal.loo.items():
            print(f"| {t} | {cal.factor:.3f} | {m} | {host[m]:.2f} | {est:.2f} | {pub:.2f} | {errs[m]:+.1%} |")
        print(f"| {t} | | **leave-one-out error** | | | | **{cal.mean_abs_error:.1%} mean, {cal.max_abs_error:.1%} max** |")
    checks = [(t, m, *c) for t, cal in cals.items() for m, c in cal.checks.items()]
    if checks:
        print("\nOutside the calibration family (not shown in reports: the error there is not the LOO error):")
        for t, m, est, pub, name in checks:
            print(f"  {m}, {t} thread(s): estimate {est:.2f} ms vs published {pub:.2f} ms for {name} "
                  f"({(est - pub) / pub:+.1%})")
    return 0
