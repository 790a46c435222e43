"""SD855 latency *estimated* from this host's measurements, for people who have no SD855.

Method (one factor per thread count): for each calibration model m with a published SD855 Paddle-Lite
fp32 figure P(m, T) (edge_kit/data/published_sd855.csv: PaddleClas's Mobile.md) and this host's
measured Paddle-Lite x86 fp32 1-thread median H(m) (the only thread count the host's Paddle-Lite
binding runs), the factor k_T is the geometric mean of P(m, T) / H(m), and the estimate is k_T * H.

Its error is measured, not assumed: leave-one-out over the calibration models (fit k_T without m,
predict m, compare with P(m, T)). An estimate is only produced where that error exists, i.e. for the
calibration family (the seed's lightweight classifiers), at a thread count with at least three
calibration models measured on this host; and the value shown for a calibration model is its
leave-one-out prediction, so its own published figure never leaks into it. Estimates are labelled
"estimated" everywhere and kept apart from measured and simulated numbers (they are never written to
the results store). One "check" row (ResNet50, a different network from edgekit's ResNet50_vd) shows
how far the factor is off outside the family.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Optional

from edge_kit.bench.record import BenchRecord

HOST_BACKEND, HOST_THREADS, PRECISION = "paddlelite", 1, "fp32"
MIN_MODELS = 3   # leave-one-out needs >= 2 models to fit on


@dataclass(frozen=True)
class Published:
    model: str
    published_name: str
    runtime: str
    precision: str
    threads: int
    ms: float
    source: str
    role: str          # calibration | check


def published_figures() -> list[Published]:
    text = resources.files("edge_kit").joinpath("data/published_sd855.csv").read_text()
    return [Published(r["model"], r["published_name"], r["runtime"], r["precision"], int(r["threads"]),
                      float(r["ms"]), r["source"], r["role"]) for r in csv.DictReader(text.splitlines())]


@dataclass
class Calibration:
    threads: int
    factor: float                              # SD855 ms per host ms, fitted on every calibration model
    loo: dict[str, tuple[float, float]]        # model -> (leave-one-out estimate, published)
    checks: dict[str, tuple[float, float, str]] = field(default_factory=dict)   # out-of-family: (est, published, name)

    def errors(self) -> dict[str, float]:
        return {m: (est - pub) / pub for m, (est, pub) in self.loo.items()}

    @property
    def mean_abs_error(self) -> float:
        e = self.errors().values()
        return sum(abs(x) for x in e) / len(e)

    @property
    def max_abs_error(self) -> float:
        return max(abs(x) for x in self.errors().values())

    def label(self) -> str:
        return (f"SD855 ms (estimated from host Paddle-Lite 1T, LOO error {self.mean_abs_error:.0%} mean / "
                f"{self.max_abs_error:.0%} max), Paddle-Lite fp32, {self.threads} thread{'s' if self.threads != 1 else ''}")


def _geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def host_medians(records: list[BenchRecord | dict]) -> dict[str, float]:
    """model -> this host's Paddle-Lite fp32 1-thread median from the results store (real host runs only)."""
    out = {}
    for r in map(BenchRecord.of, records):
        if (r.device == "host" and not r.simulated and r.ok and r.backend == HOST_BACKEND
                and r.precision == PRECISION and r.threads == HOST_THREADS and r.median_ms):
            out[r.model] = float(r.median_ms)
    return out


def calibrate(host: dict[str, float], published: Optional[list[Published]] = None) -> dict[int, Calibration]:
    """threads -> Calibration, for thread counts with >= MIN_MODELS calibration models measured here."""
    published = published if published is not None else published_figures()
    out = {}
    for t in sorted({p.threads for p in published}):
        cal = {p.model: p.ms for p in published if p.threads == t and p.role == "calibration" and p.model in host}
        if len(cal) < MIN_MODELS:
            continue
        ratios = {m: ms / host[m] for m, ms in cal.items()}
        loo = {}
        for m, pub in cal.items():
            k = _geomean([r for other, r in ratios.items() if other != m])
            loo[m] = (k * host[m], pub)
        factor = _geomean(list(ratios.values()))
        checks = {p.model: (factor * host[p.model], p.ms, p.published_name) for p in published
                  if p.threads == t and p.role == "check" and p.model in host}
        out[t] = Calibration(t, factor, loo, checks)
    return out


def estimated_columns(records: list[BenchRecord | dict]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """({column label -> {model -> text}}, notes) for the report's classification table. Only the
    calibration models get a value (their leave-one-out estimate); nothing at all without a calibration."""
    cals = calibrate(host_medians(records))
    cols, notes = {}, []
    for t, cal in cals.items():
        cols[cal.label()] = {m: f"{est:.2f} (estimated)" for m, (est, _) in cal.loo.items()}
    if cals:
        notes.append("SD855 ms (estimated): this host's Paddle-Lite x86 1-thread median times a factor fitted on "
                     "PaddleClas's published SD855 Paddle-Lite figures; each value is the leave-one-out estimate "
                     "(its own published figure left out); not a measurement (edgekit estimate for details)")
    return cols, notes
