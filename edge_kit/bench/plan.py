"""The plan step of a benchmark: which cells to measure, grouped by model, before anything is converted.

A cell that does not exist on the device (no fp16 Paddle Inference on the host, ...) is "not
applicable"; one this machine already has in the results store is "done" and skipped (resume).
Everything else is a step: one model's cells, measured together (interleaved on the host).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from edge_kit.bench.cell import Cell
from edge_kit.manifest import Artifact


def default_models() -> list[str]:
    """The lightweight classification models edgekit can build (README's main job)."""
    from edge_kit.zoo import all_models

    return [s.name for s in all_models() if s.task == "classification" and s.seed.lightweight and s.implemented]


@dataclass
class Step:
    model: str
    cells: list[Cell]
    artifact: Optional[Artifact] = None   # the user's own file (--artifact): timed as it is, not converted


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)   # cell keys
    skipped_done: list[str] = field(default_factory=list)     # cell keys already measured on this machine

    @property
    def size(self) -> int:
        return sum(len(s.cells) for s in self.steps)


def applicable(device, backend: str, precision: str, threads: int) -> bool:
    """Whether the cell exists on this device (e.g. no fp16 Paddle Inference); devices may not say."""
    supports = getattr(device, "supports", None)
    return True if supports is None else bool(supports(backend, precision, threads))


def plan_cells(models: list[str], device, backends: list[str], precisions, threads, done: set[str],
               given: list[tuple[str, Artifact]] = (), warmup: int = 10, repeats: int = 50,
               min_secs: float = 0.0) -> Plan:
    """models x backends x precisions x threads, then each `given` (backend, artifact) at every thread
    count (as given: its backend and precision are the file's, whatever the device says it supports)."""
    plan = Plan()
    timing = dict(warmup=warmup, repeats=repeats, min_secs=min_secs)
    for model in models:
        cells = []
        for b in backends:
            for p in precisions:
                for t in threads:
                    c = Cell(model, b, p, int(t), device.name, **timing)
                    if not applicable(device, b, p, int(t)):
                        plan.not_applicable.append(c.key())
                    elif c.key() in done:
                        plan.skipped_done.append(c.key())
                    else:
                        cells.append(c)
        if cells:
            plan.steps.append(Step(model, cells))
    for backend, art in given:
        cells = []
        for t in threads:
            c = Cell(art.model, backend, art.precision, int(t), device.name, **timing)
            if c.key() in done:
                plan.skipped_done.append(c.key())
            else:
                cells.append(c)
        if cells:
            plan.steps.append(Step(art.model, cells, art))
    return plan
