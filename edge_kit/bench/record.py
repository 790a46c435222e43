"""One line of a results store (bench_results/results.jsonl): a measured, failed or imported cell.

Written by the harness (edge_kit.bench.store.make_record) and the GPU paths (edge_kit.gpu.records); read
by resume, the report, `edgekit estimate` and `edgekit bench`'s summary. Nested values stay JSON: the
measurement is edge_kit.bench.cell.Measurement.as_dict(), device_info is what the device described,
artifact is edge_kit.bench.store.artifact_summary.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from edge_kit.jsonrecord import JsonRecord

SCHEMA = "edgekit.bench/1"
SCHEMAS = (SCHEMA,)   # every record layout this code reads; a new layout adds its name here


@dataclass(eq=False)
class BenchRecord(JsonRecord):
    schema: str = SCHEMA
    key: Optional[str] = None          # Cell.key(): "device|model|backend|precision|tN" (GPU: edge_kit.gpu.records)
    status: Optional[str] = None       # "ok" | "failed"
    reason: Optional[str] = None
    model: Optional[str] = None
    backend: Optional[str] = None
    precision: Optional[str] = None
    threads: Optional[int] = None
    device: Optional[str] = None       # "host", "sd855", "sd855@SERIAL", "sd855-sim", "gpu:NAME", ...
    warmup: Optional[int] = None
    repeats: Optional[int] = None
    min_secs: Optional[float] = None
    simulated: Optional[bool] = None
    measurement: Optional[dict] = None  # Measurement.as_dict(); null for a failed cell
    flags: Optional[dict] = None       # noisy, remeasured, interleaved, imported, ...
    device_info: Optional[dict] = None
    artifact: Optional[dict] = None    # what was timed (path, format, bytes, sha256, parity, ...)
    provenance: Optional[dict] = None  # GPU records: imported from a trtexec log or measured by edgekit
    timestamp: Optional[str] = None

    # the harness writes every one of these, null or not (a failed cell's "measurement": null)
    ALWAYS: ClassVar[frozenset] = frozenset(
        "schema key status reason model backend precision threads device warmup repeats min_secs simulated "
        "measurement flags device_info artifact timestamp".split())

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def noisy(self) -> bool:
        return bool((self.flags or {}).get("noisy"))

    @property
    def median_ms(self) -> Optional[float]:
        return (self.measurement or {}).get("median_ms")
