"""`edgekit bench`: time models on a device with every backend, append results to bench_results/.

With no arguments it does README's main job: the lightweight classification models on the host with
every available backend at 1 and 2 threads, then prints the host table.
"""
from __future__ import annotations

import sys

from edge_kit.errors import EdgekitError

DEVICES = ("host", "sd855", "auto", "gpu")


def _csv(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _threads(text: str) -> list[int]:
    try:
        values = [int(t) for t in _csv(text)]
    except ValueError:
        raise EdgekitError(f"--threads takes comma-separated integers such as 1,2; got {text!r}") from None
    if not values or min(values) < 1:
        raise EdgekitError(f"--threads takes positive integers such as 1,2; got {text!r}")
    return values


def default_models() -> list[str]:
    """The lightweight classification models edgekit can build (README's main job)."""
    from edge_kit.zoo import all_models

    return [s.name for s in all_models() if s.task == "classification" and s.seed.lightweight and s.implemented]


def default_threads(device) -> str:
    return "1,2" if device.name == "host" else "1,4"


def open_device(name: str, serial: str | None = None, tool_dir: str | None = None, mkldnn: bool = False):
    if name not in DEVICES:
        raise EdgekitError(f"unknown device {name!r}; choose from {', '.join(DEVICES)}")
    if name == "host":
        from edge_kit.bench.host_device import HostDevice

        return HostDevice({"mkldnn": True} if mkldnn else None)
    try:
        from android_runner.android_device import open_android_device
    except ImportError as err:
        if name == "auto":
            print(f"edgekit: no phone runner ({err}); benchmarking the host", file=sys.stderr)
            return open_device("host", mkldnn=mkldnn)
        raise EdgekitError(f"--device {name} needs android_runner.android_device, which is not available: {err}") \
            from err
    try:
        return open_android_device("auto" if name == "auto" else "sd855", serial, tool_dir)
    except EdgekitError as err:
        if name != "auto":
            raise
        print(f"edgekit: no phone ({err}); benchmarking the host", file=sys.stderr)
        return open_device("host", mkldnn=mkldnn)


def run(args) -> int:
    if args.device == "gpu":
        from edge_kit.gpu.bench_cli import run_gpu

        return run_gpu(args)
    from edge_kit.bench.harness import load_artifacts, run_bench

    models = args.models or ([] if args.artifact else default_models())
    device = open_device(args.device, args.serial, args.tool_dir, args.mkldnn)
    try:
        artifacts = load_artifacts(args.artifact or [], device)
        repeats = None if args.min_secs else args.repeats
        summary = run_bench(models, device, backends=_csv(args.backend) or None,
                            threads=_threads(args.threads or default_threads(device)),
                            precisions=_csv(args.precision) or ["fp32"], warmup=args.warmup, repeats=repeats,
                            min_secs=args.min_secs, force=args.force, results_dir=args.results_dir,
                            progress=not args.quiet, artifacts=tuple(artifacts))
        models = models + [a.model for a in artifacts if a.model not in models]
    finally:
        device.close()
    print(summary.text(), file=sys.stderr)
    from edge_kit.report import device_table_markdown

    print(device_table_markdown(args.results_dir, device=device.name, models=models))
    return 130 if summary.interrupted else (1 if summary.failed and not summary.measured else 0)


def register(sub) -> None:
    p = sub.add_parser("bench", help="time models on the host or a phone; results go to bench_results/",
                       description=__doc__)
    p.add_argument("models", nargs="*", metavar="MODELS",
                   help="seed model names (default: the lightweight classification models)")
    p.add_argument("--artifact", action="append", metavar="FILE",
                   help="benchmark this converted file (.nb/.tflite/.onnx with its manifest) as it is; repeatable")
    p.add_argument("--device", default="host", help=f"one of {', '.join(DEVICES)} (default host; gpu: TensorRT, "
                                                    "needs tensorrt + cuda-bindings + an NVIDIA GPU)")
    p.add_argument("--serial", help="adb serial of the phone")
    p.add_argument("--tool-dir", help="directory with benchmark_model / benchmark_bin for the phone")
    p.add_argument("--backend", help="comma-separated: paddlelite,tflite,onnxruntime,paddle (default: all "
                                     "available on the device)")
    p.add_argument("--threads", help="comma-separated thread counts (default: host 1,2; phone 1,4: one thread on "
                   "the prime core and four on the big cores, as published SD855 tables are taken)")
    p.add_argument("--precision", default="fp32", help="comma-separated: fp32,fp16,int8 (default fp32)")
    p.add_argument("--warmup", type=int, default=10, help="untimed runs per cell (default 10)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--repeats", type=int, default=50, help="timed runs per cell (default 50)")
    group.add_argument("--min-secs", type=float, help="time each cell for at least this many seconds instead")
    p.add_argument("--force", action="store_true", help="re-measure cells already in the results store")
    p.add_argument("--results-dir", default="bench_results", help="where results.jsonl lives (default "
                                                                   "bench_results)")
    p.add_argument("--mkldnn", action="store_true", help="Paddle Inference: enable oneDNN (off by default)")
    p.add_argument("--quiet", action="store_true", help="no progress indicator")
    p.set_defaults(func=run)
