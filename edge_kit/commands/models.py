"""`edgekit models`: every model of the seed tables, with edgekit's status and the seed's figures."""
from __future__ import annotations

import argparse

import json


def _fmt(v) -> str:
    return "-" if v is None or v == "" else str(v)


def model_rows(with_params: bool = False) -> list[dict]:
    from edge_kit.zoo import all_models

    rows = []
    for spec in all_models():
        seed = spec.seed
        row = {
            "model": spec.name, "task": spec.task, "input_shape": list(spec.input_shape),
            "implemented": spec.implemented, "lightweight": seed.lightweight,
            "seed_storage_mb": seed.storage_mb, "seed_gpu_ms": seed.gpu_ms, "seed_gpu_setup": seed.gpu_setup,
            "seed_sd855_ms": seed.sd855_ms, "seed_metric": seed.metric, "seed_metric_value": seed.metric_value,
            "size_note": spec.size_note,
        }
        if spec.not_implemented_why:
            row["not_implemented_why"] = spec.not_implemented_why
        if with_params and spec.implemented:
            from edge_kit.zoo.params import param_storage_mb

            mb = param_storage_mb(spec)
            row["params_fp32_mb"] = round(mb, 2)
            if seed.storage_mb:
                row["size_vs_seed"] = round(mb / seed.storage_mb, 3)
        rows.append(row)
    return rows


def run(args) -> int:
    rows = model_rows(with_params=args.sizes)
    if args.task:
        rows = [r for r in rows if r["task"] == args.task]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = ["model", "task", "input_shape", "implemented", "seed_storage_mb", "seed_gpu_ms", "seed_sd855_ms",
            "seed_metric_value"]
    if args.sizes:
        cols += ["params_fp32_mb", "size_vs_seed"]
    table = [[c for c in cols]]
    for r in rows:
        shape = "x".join(str(d) for d in r["input_shape"][1:])
        vals = {**r, "input_shape": shape, "implemented": "yes" if r["implemented"] else "no"}
        table.append([_fmt(vals.get(c)) for c in cols])
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    notes = [r for r in rows if r["size_note"]]
    for r in notes:
        print(f"note: {r['model']}: {r['size_note']}")
    for r in rows:
        if r.get("not_implemented_why"):
            print(f"note: {r['model']}: not implemented: {r['not_implemented_why']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list the zoo (every model of the seed tables)",
                       description="""List every model of the seed tables: task, input, whether edgekit implements it and the seed's
published figures. --sizes builds each model and compares its fp32 size with the seed's.\n\nexamples:\n  edgekit models\n  edgekit models --task detection --json\n""",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--task", choices=["classification", "detection", "instance_segmentation",
                                      "semantic_segmentation"])
    p.add_argument("--sizes", action="store_true",
                   help="also build each implemented model and report its fp32 parameter size")
    p.set_defaults(func=run)
