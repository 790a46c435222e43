"""The unit of measurement and the seam every device implements.

A *cell* is one (model, backend, precision, threads, device) combination. The harness asks a Device to
measure a cell on an artifact and gets back a Measurement; it never times anything itself on a phone
(the on-device tool's own numbers are the truth there).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Protocol

from edge_kit import formats
from edge_kit.manifest import Artifact

# backend name -> (artifact format, artifact target) it runs on the host (a phone: Device.artifact_target)
BACKEND_ARTIFACT = {r.name: (r.format, formats.fmt(r.format).host_target or formats.fmt(r.format).targets[0])
                    for r in formats.RUNTIMES}


@dataclass(frozen=True)
class Cell:
    model: str
    backend: str
    precision: str        # fp32 | fp16 | int8
    threads: int
    device: str           # "host", "sd855", "sd855-sim", ...
    warmup: int = 10
    repeats: int = 50
    min_secs: float = 0.0

    def key(self) -> str:
        """Identity used by the results store to resume: same key = same measurement."""
        return f"{self.device}|{self.model}|{self.backend}|{self.precision}|t{self.threads}"


@dataclass
class Measurement:
    """Latencies in milliseconds. Fields a tool does not report stay None (never 0)."""

    count: int
    min_ms: Optional[float]
    median_ms: Optional[float]
    mean_ms: Optional[float]
    p90_ms: Optional[float] = None
    p99_ms: Optional[float] = None
    max_ms: Optional[float] = None
    std_ms: Optional[float] = None
    init_ms: Optional[float] = None
    first_ms: Optional[float] = None
    peak_rss_mb: Optional[float] = None
    samples_ms: list[float] = field(default_factory=list)  # per-run times where the runtime exposes them
    extra: dict = field(default_factory=dict)   # tool command line, raw output, temperatures, frequencies...

    @property
    def cv(self) -> Optional[float]:
        if self.std_ms is None or not self.mean_ms:
            return None
        return self.std_ms / self.mean_ms

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cv"] = self.cv
        return d


class Device(Protocol):
    name: str          # recorded in every result ("host", "sd855", "sd855-sim")
    simulated: bool    # True: numbers are not from the named hardware and are labelled so everywhere

    def describe(self) -> dict:
        """Where it ran: CPU model, cores, frequencies, governor, OS, runtime/tool versions."""

    def backends(self) -> list[str]:
        """Backends this device can run now (e.g. no 'tflite' on a phone without benchmark_model)."""

    def artifact_target(self, backend: str) -> str:
        """Which artifact target the backend needs here (host paddlelite: 'x86'; phone: 'arm')."""

    def measure(self, cell: Cell, artifact: Artifact) -> Measurement:
        """Run one cell. Raises edge_kit.errors.EdgekitError subclasses on failure."""

    def close(self) -> None:
        ...
