"""`edgekit bench`: time models on a device with every backend, append results to bench_results/.

With no arguments it does README's main job: the lightweight classification models on the host with
every available backend at 1 and 2 threads, then prints the host table. With models or --artifact it
prints the numbers it measured, one line per cell. Exit status: 0 when every cell was measured (or was
already in the store for this machine), 1 when any cell failed, 130 when interrupted.

examples:
  edgekit bench
  edgekit bench MobileNetV3_small_ssld --backend tflite,onnxruntime --threads 1
  edgekit bench --artifact out/MobileNetV3_small_ssld/MobileNetV3_small_ssld.fp32.tflite --json
  edgekit bench MobileNetV2 --device sd855 --serial 127.0.0.1:5557   # against `edgekit device-sim`
"""
from __future__ import annotations

import argparse
import sys

from edge_kit import formats
from edge_kit.bench.devices import DEVICES, PHONE_THREADS, default_threads, open_device
from edge_kit.errors import EdgekitError


def _csv(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


MAX_THREADS = 64  # far above any phone (8 cores); 100000 made LiteRT segfault and onnxruntime spin for minutes


def _threads(text: str) -> list[int]:
    try:
        values = [int(t) for t in _csv(text)]
    except ValueError:
        raise EdgekitError(f"--threads takes comma-separated integers such as 1,2; got {text!r}") from None
    if not values or min(values) < 1 or max(values) > MAX_THREADS:
        raise EdgekitError(f"--threads takes integers from 1 to {MAX_THREADS} such as 1,2; got {text!r}")
    return values


def _bench_kw(args, threads_default) -> dict:
    """run_bench's keyword arguments from the command line."""
    return dict(backends=_csv(args.backend) or None,
                threads=_threads(args.threads) if args.threads else list(threads_default),
                precisions=_csv(args.precision) or ["fp32"], warmup=args.warmup,
                repeats=None if args.min_secs else args.repeats, min_secs=args.min_secs, force=args.force,
                results_dir=args.results_dir, progress=not args.quiet)


def run_phones(args, models: list[str], serials: list[str] | None, provider=None) -> int:
    """Several phones in parallel (android_runner.farm): one worker per phone, one store, one column each."""
    from android_runner.farm import bench_phones
    from edge_kit.report import device_table_markdown

    farm = bench_phones(models, args.device, serials, args.tool_dir, adb_server=args.adb_server,
                        artifact_paths=args.artifact or [], provider=provider, **_bench_kw(args, PHONE_THREADS))
    print(farm.text(), file=sys.stderr)
    arts = [a.model for r in farm.runs for a in r.artifacts]
    names = [d.name for d in farm.devices]
    print(device_table_markdown(args.results_dir, device=names, models=models + [m for m in arts if m not in models]))
    used = [r for r in farm.runs if r.skipped_reason is None]
    if any(r.summary is not None and r.summary.interrupted for r in used):
        return 130
    bad = [r for r in used if r.summary is None or (r.summary.failed and not r.summary.measured)]
    return 1 if bad else 0


def run(args, provider=None) -> int:
    """`provider`: where cells get their artifacts (edge_kit.bench.artifacts); None converts on demand."""
    if args.device == "gpu":
        from edge_kit.gpu.bench_cli import run_gpu

        return run_gpu(args)
    from android_runner.farm import split_serials
    from edge_kit.bench.harness import load_artifacts, run_bench
    from edge_kit.bench.plan import default_models

    models = args.models or ([] if args.artifact else default_models())
    serials = split_serials(args.serial)
    if args.device not in DEVICES:
        raise EdgekitError(f"unknown device {args.device!r}; choose from {', '.join(DEVICES)}")
    if args.device != "host" and (len(serials) > 1 or serials == ["all"]):
        return run_phones(args, models, None if serials == ["all"] else serials, provider)
    device = open_device(args.device, args.serial, args.tool_dir, args.mkldnn, args.adb_server)
    try:
        artifacts = load_artifacts(args.artifact or [], device)
        summary = run_bench(models, device, artifacts=tuple(artifacts), provider=provider,
                            **_bench_kw(args, default_threads(device)))
        models = models + [a.model for a in artifacts if a.model not in models]
    finally:
        device.close()
    print(summary.text(), file=sys.stderr)
    from edge_kit.bench.machine import machine_id
    from edge_kit.commands.bench_output import measured_lines, measured_json

    here = machine_id(device.describe())
    if args.json:
        print(measured_json(args.results_dir, summary, here))
    elif not args.models and not args.artifact:  # README's main job: the whole table of this machine
        from edge_kit.report import device_table_markdown

        print(device_table_markdown(args.results_dir, device=device.name, models=models, machine=here))
    else:
        print(measured_lines(args.results_dir, summary, here))
    return 130 if summary.interrupted else (1 if summary.failed else 0)


def register(sub) -> None:
    p = sub.add_parser("bench", help="time models on the host or a phone; results go to bench_results/",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="MODELS",
                   help="seed model names (default: the lightweight classification models)")
    p.add_argument("--artifact", action="append", metavar="FILE",
                   help="benchmark this converted file ("
                        + "/".join(sfx for f in formats.FORMATS if f.converted for sfx in f.suffixes)
                        + " with its manifest) as it is; repeatable")
    p.add_argument("--device", default="host", help=f"one of {', '.join(DEVICES)} (default host)")
    p.add_argument("--serial", help="adb serial of the phone; A,B,... benchmarks several phones in parallel (one "
                                    "column each); 'all': every device the adb server lists that matches --device")
    p.add_argument("--adb-server", metavar="tcp:HOST:PORT",
                   help="reach phones through this adb server (default: $ADB_SERVER_SOCKET, else a local server on "
                        "5037 if it has the phone, else edgekit's own direct ADB connection); 'none' forces direct")
    p.add_argument("--tool-dir", help="directory with benchmark_model / benchmark_bin for the phone")
    phone = [r.name for r in formats.RUNTIMES if r.phone_tool]
    gpu = [r.name for r in formats.RUNTIMES if not r.host and not r.phone_tool]
    p.add_argument("--backend", help=f"comma-separated: {','.join(formats.HOST_RUNTIMES)} on the host, "
                                     f"{','.join(phone)} on a phone, {','.join(gpu)} with --device gpu (default: "
                                     "all available on the device but the opt-in "
                                     f"{','.join(r.name for r in formats.RUNTIMES if not r.default)})")
    p.add_argument("--threads", help="comma-separated thread counts (default: host 1,2; phone 1,4: one thread on "
                   "the prime core and four on the big cores, as published SD855 tables are taken)")
    p.add_argument("--precision", default="fp32", help=f"comma-separated: {','.join(formats.PRECISIONS)} "
                                                       "(default fp32)")
    p.add_argument("--warmup", type=int, default=10, help="untimed runs per cell (default 10)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--repeats", type=int, default=50, help="timed runs per cell (default 50)")
    group.add_argument("--min-secs", type=float, help="time each cell for at least this many seconds instead")
    p.add_argument("--force", action="store_true", help="re-measure cells already in the results store")
    p.add_argument("--results-dir", default="bench_results", help="where results.jsonl lives (default "
                                                                   "bench_results)")
    p.add_argument("--mkldnn", action="store_true", help="Paddle Inference: enable oneDNN (off by default)")
    p.add_argument("--quiet", action="store_true", help="no progress indicator")
    p.add_argument("--json", action="store_true", help="print this run's cells and numbers as JSON")
    p.set_defaults(func=run)
