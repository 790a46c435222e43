"""The `--device gpu` branch of `edgekit bench` (kept out of commands/bench.py so that file barely changes)."""
from __future__ import annotations

import sys

from edge_kit.errors import EdgekitError


def run_gpu(args) -> int:
    from edge_kit.gpu.bench import run_gpu_bench
    from edge_kit.gpu.trt_runtime import GpuUnavailable
    from edge_kit.report import device_table_markdown

    backends = [b.strip() for b in (args.backend or "tensorrt").split(",") if b.strip()]
    if backends != ["tensorrt"]:
        raise EdgekitError(f"--device gpu runs --backend tensorrt only; got {args.backend!r}")
    if args.artifact:
        raise EdgekitError("--device gpu takes seed model names, not --artifact files")
    if not args.models:
        raise EdgekitError("--device gpu needs model names (e.g. ResNet50_vd_ssld YOLOv3-MobileNetV1)")
    precisions = [p.strip() for p in (args.precision or "fp32").split(",") if p.strip()]
    try:
        measured, failed, device = run_gpu_bench(args.models, precisions, warmup=args.warmup,
                                                 iterations=args.repeats or 500, results_dir=args.results_dir,
                                                 force=args.force)
    except GpuUnavailable as err:
        print(f"edgekit: {err}", file=sys.stderr)
        return 2
    print(f"measured {len(measured)} cell(s) on {device}, {len(failed)} failed; results: "
          f"{args.results_dir}/results.jsonl", file=sys.stderr)
    for key, why in failed:
        print(f"  failed {key}: {why}", file=sys.stderr)
    print(device_table_markdown(args.results_dir, device=device, models=args.models))
    return 1 if failed and not measured else 0
