"""The seed's figures (PaddleX model-zoo introduction), one row per model, as shipped in data/."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Optional

TASKS = ("classification", "detection", "instance_segmentation", "semantic_segmentation")


def _num(text: str) -> Optional[float]:
    text = text.strip()
    return float(text) if text else None


@dataclass(frozen=True)
class SeedRow:
    task: str
    model: str
    lightweight: bool
    storage_mb: Optional[float]
    gpu_ms: Optional[float]
    gpu_setup: str
    sd855_ms: Optional[float]
    metric: str
    metric_value: str  # kept as text: instance segmentation gives "38.7/34.7"
    metric_dataset: str


@lru_cache(maxsize=1)
def seed_rows() -> tuple[SeedRow, ...]:
    text = resources.files("edge_kit").joinpath("data/seed_models.csv").read_text()
    rows = []
    for r in csv.DictReader(text.splitlines()):
        rows.append(SeedRow(
            task=r["task"], model=r["model"], lightweight=r["lightweight"] == "yes",
            storage_mb=_num(r["storage_mb"]), gpu_ms=_num(r["gpu_ms_bs1"]),
            gpu_setup=r["gpu_setup"], sd855_ms=_num(r["sd855_ms_bs1"]), metric=r["metric"],
            metric_value=r["metric_value"], metric_dataset=r["metric_dataset"]))
    return tuple(rows)


def seed_row(model: str) -> SeedRow:
    for row in seed_rows():
        if row.model == model:
            return row
    raise KeyError(model)
