"""The measure step of a benchmark: one model's resolved cells, timed the way the device wants.

The host keeps the runners loaded and times them in turns (edge_kit.bench.interleave), in a child
process so a runtime that aborts fails only its cells (edge_kit.bench.contained). A device with its own
timing tool (a phone) is asked cell by cell. Every outcome goes to `record` as soon as it is known.
"""
from __future__ import annotations

import time

from edge_kit.bench.contained import measure_contained
from edge_kit.bench.interleave import measure_interleaved
from edge_kit.errors import EdgekitError


def measure_cells(device, runnable, record, bar, cv_threshold: float) -> None:
    """Measure `runnable` [(cell, artifact)] of one model on `device`; record(cell, ...) each outcome."""
    if getattr(device, "interleaves", False):
        # in a child process per model: a runtime that aborts fails its cells, not the run
        contain = measure_contained if getattr(device, "contained", False) else measure_interleaved
        contain(device, runnable, record, bar, cv_threshold)
    else:
        measure_one_by_one(device, runnable, record, cv_threshold)


def measure_one_by_one(device, runnable, record, cv_threshold: float) -> None:
    for cell, art in runnable:
        try:
            m = device.measure(cell, art)
            flags = {"interleaved": False}
            if m.cv is not None and m.cv > cv_threshold:
                first = m
                time.sleep(1.0)  # let a phone's clocks settle before the second try
                m = device.measure(cell, art)
                flags.update(remeasured=True, first_cv=first.cv, noisy=bool(m.cv and m.cv > cv_threshold),
                             first_attempts=first.extra.get("attempts", 1))
        except EdgekitError as err:
            record(cell, artifact=art, reason=str(err))
            continue
        record(cell, measurement=m, artifact=art, flags=flags)
