"""Accuracy columns measured by `edgekit eval` (bench_results/accuracy.jsonl), beside the seed's metric.

One column per (dataset, artifact format, precision), in the seed's unit (top-1 %, box mAP@[.5:.95] %,
mIoU %), plus an "int8 drop" column wherever the same model has an fp32 and an int8 result on the same
dataset. Results from untrained weights are marked, since they score the artifact, not a trained model.
"""
from __future__ import annotations

from pathlib import Path

METRIC = {"classification": ("top1", "Top1 %"), "detection": ("map", "Box mmAP"),
          "semantic_segmentation": ("miou", "mIoU %")}
FORMAT = {"paddlelite": ".nb x86", "onnx": "ONNX", "tflite": "TFLite"}


def load_accuracy(results_dir) -> list[dict]:
    from edge_kit.bench.store import ResultStore
    from edge_kit.evaluate import ACCURACY_FILE, SCHEMA

    if not (Path(results_dir) / ACCURACY_FILE).exists():
        return []
    latest: dict[tuple, dict] = {}
    # (bench records' reader would skip these: they are not cells; accuracy.jsonl was never shown before)
    for rec in ResultStore(results_dir, ACCURACY_FILE).objects((SCHEMA,), required=("model", "dataset")):
        # a later result for the same cell supersedes
        latest[(rec["model"], rec["format"], rec["precision"], rec["dataset"]["path"])] = rec
    return list(latest.values())


def _dataset_name(rec: dict) -> str:
    return Path(rec["dataset"]["path"]).name or rec["dataset"]["path"]


def add_accuracy_columns(tables: list, records: list[dict]) -> None:
    for table in tables:
        if table.section not in METRIC:
            continue
        key, unit = METRIC[table.section]
        mine = [r for r in records if r.get("task") == table.section and key in r.get("metrics", {})]
        if not mine:
            continue
        cells: dict[str, dict[str, str]] = {}
        cols: list[str] = []
        for r in sorted(mine, key=lambda r: (_dataset_name(r), r["format"], r["precision"])):
            col = f"{unit} (measured, {_dataset_name(r)}, {FORMAT.get(r['format'], r['format'])} {r['precision']})"
            if col not in cols:
                cols.append(col)
            text = f"{100 * r['metrics'][key]:.2f}"
            if str(r.get("weights") or "").startswith("untrained"):
                text += " (untrained)"
            cells.setdefault(r["model"], {})[col] = text
        drops: dict[str, dict[str, str]] = {}
        for r in mine:
            if r["precision"] != "int8":
                continue
            base = next((b for b in mine if b["model"] == r["model"] and b["precision"] == "fp32"
                         and b["dataset"]["path"] == r["dataset"]["path"]), None)
            if base:
                col = f"int8 drop (points, {_dataset_name(r)})"
                if col not in cols:
                    cols.append(col)
                drops.setdefault(r["model"], {})[col] = f"{100 * (base['metrics'][key] - r['metrics'][key]):.2f}"
        table.columns += cols
        for row in table.rows:
            got = {**cells.get(row[0], {}), **drops.get(row[0], {})}
            row += [got.get(c, "not measured") for c in cols]
        table.notes.append("Accuracy columns: `edgekit eval` on the named dataset, on this host; "
                           "\"(untrained)\" = edgekit's seeded weights, which score the artifact, not a trained model.")
