"""The record step of a benchmark: each cell's outcome is appended to the results store the moment it
is known (so Ctrl-C or a lost phone keeps everything measured before it) and counted in the summary."""
from __future__ import annotations

import os
from typing import Optional

from edge_kit.bench.cell import Cell, Measurement
from edge_kit.bench.store import ResultStore, make_record
from edge_kit.manifest import Artifact


class Recorder:
    """`record(cell, measurement=..., artifact=..., flags=...)` for a measured cell,
    `record(cell, reason=..., artifact=...)` for a failed one."""

    def __init__(self, store: ResultStore, summary, device_info: dict, simulated: bool, bar):
        self.store, self.summary, self.device_info, self.simulated, self.bar = \
            store, summary, device_info, simulated, bar

    def __call__(self, cell: Cell, *, measurement: Optional[Measurement] = None,
                 artifact: Optional[Artifact] = None, reason: str = "", flags: Optional[dict] = None) -> None:
        status = "ok" if measurement is not None else "failed"
        # the host's load when the cell was recorded: a README table states the load its numbers saw
        flags = {**(flags or {}), "host_load_avg": [round(x, 2) for x in os.getloadavg()]}
        self.store.append(make_record(cell, status=status, device_info=self.device_info, simulated=self.simulated,
                                      measurement=measurement, artifact=artifact, reason=reason, flags=flags))
        if status == "ok":
            self.summary.measured.append(cell.key())
            if (flags or {}).get("noisy"):
                self.summary.noisy.append(cell.key())
        else:
            self.summary.failed.append((cell.key(), reason))
        self.bar.update(f"{cell.key()} {status}", advance=1)
