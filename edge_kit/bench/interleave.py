"""Round-robin timing of several loaded runners (one model's cells) on the host.

Each turn gives a cell about TURN_SECS of runs, so fast and slow cells alternate in time and a burst
of load from another process lands on all of them. A cell whose coefficient of variation exceeds the
threshold is measured once more (the noisy cells again in turns) and flagged if still noisy.

Memory: `peak_rss_mb` is the process's resident set size (psutil) sampled after load, after the first
inference and after every turn of the cell; the other runners of the same model are resident too, so
`extra["rss_load_delta_mb"]` (RSS growth while this runner loaded and ran once) is what it alone adds.
"""
from __future__ import annotations

import math

import psutil

from edge_kit.bench.cell import Measurement
from edge_kit.bench.stats import summarize
from edge_kit.errors import EdgekitError

TURN_SECS = 0.05  # a turn: about this much of one cell's runs...
MIN_TURNS = 5     # ...but a cell's repeats are split over at least this many turns
REWARM_RUNS = 1   # untimed runs at the start of each turn. Measured on MobileNetV3_small, LiteRT and
                  # Paddle-Lite interleaved: without it medians ran 6-13% above a bare invoke loop, with it
                  # within 2% (the other runtime's turn cools the caches)
RSS_METHOD = ("process RSS via psutil, max of samples after load, first inference and each timed turn; "
              "the same model's other runners were resident")
_PROC = psutil.Process()


def _rss_mb() -> float:
    return _PROC.memory_info().rss / 2**20


class _Slot:
    def __init__(self, cell, artifact, runner, rss_before: float):
        self.cell, self.artifact, self.runner = cell, artifact, runner
        self.samples: list[float] = []
        self.peak = max(rss_before, _rss_mb())
        self.load_delta = _rss_mb() - rss_before
        self.per_turn = 1

    def target_met(self) -> bool:
        c = self.cell
        if c.min_secs:
            return sum(self.samples) >= c.min_secs * 1e3 and len(self.samples) >= max(1, c.repeats or 0)
        return len(self.samples) >= c.repeats

    def turn(self) -> None:
        n = self.per_turn
        if not self.cell.min_secs:
            n = min(n, self.cell.repeats - len(self.samples))
        self.runner.activate()
        self.runner.timed(REWARM_RUNS)  # untimed: the previous turn ran another runtime and cooled the caches
        self.samples += self.runner.timed(n)
        self.peak = max(self.peak, _rss_mb())


def _warm(slot: _Slot) -> None:
    slot.runner.activate()
    warm = slot.runner.timed(slot.cell.warmup) if slot.cell.warmup else slot.runner.timed(1)
    typical = sorted(warm)[len(warm) // 2] if warm else slot.runner.first_ms
    per_turn = int(TURN_SECS * 1e3 / max(typical, 1e-3))
    if slot.cell.repeats and not slot.cell.min_secs:  # at least MIN_TURNS turns, or there is no interleaving
        per_turn = min(per_turn, math.ceil(slot.cell.repeats / MIN_TURNS))
    slot.per_turn = max(1, per_turn)


def _round_robin(slots: list[_Slot], bar, label: str) -> None:
    pending = list(slots)
    rounds = 0
    while pending:
        rounds += 1
        for slot in pending:
            slot.turn()
        pending = [s for s in pending if not s.target_met()]
        bar.update(f"{label}: turn {rounds}, {len(pending)} cell(s) still timing")


def _measurement(slot: _Slot, flags: dict) -> Measurement:
    s = summarize(slot.samples)
    r = slot.runner
    return Measurement(
        count=s["count"], min_ms=s["min_ms"], median_ms=s["median_ms"], mean_ms=s["mean_ms"], p90_ms=s["p90_ms"],
        p99_ms=s["p99_ms"], max_ms=s["max_ms"], std_ms=s["std_ms"], init_ms=r.init_ms, first_ms=r.first_ms,
        peak_rss_mb=round(slot.peak, 1), samples_ms=[round(x, 5) for x in slot.samples],
        extra={"runner": r.description(), "rss_load_delta_mb": round(slot.load_delta, 1),
               "peak_rss_method": RSS_METHOD, "runs_per_turn": slot.per_turn, **flags})


def measure_interleaved(device, runnable, record, bar, cv_threshold: float) -> None:
    """Open every runner of `runnable` [(cell, artifact)], time them in turns, record each cell."""
    slots: list[_Slot] = []
    try:
        for cell, art in runnable:
            bar.update(f"{cell.key()}: loading")
            before = _rss_mb()
            try:
                runner = device.open_runner(cell, art)
            except EdgekitError as err:
                record(cell, artifact=art, reason=str(err))
                continue
            slot = _Slot(cell, art, runner, before)
            try:
                _warm(slot)
            except Exception as err:  # a runtime failing mid-run is that cell's failure, not the run's
                record(cell, artifact=art, reason=f"{cell.backend}: inference failed: {err}")
                runner.close()
                continue
            slots.append(slot)
        if not slots:
            return
        model = slots[0].cell.model
        _round_robin(slots, bar, model)
        flags = {s.cell.key(): {"interleaved": True, "interleaved_with": len(slots)} for s in slots}
        noisy = [s for s in slots if _cv(s) is not None and _cv(s) > cv_threshold]
        if noisy:
            for s in noisy:
                flags[s.cell.key()].update(remeasured=True, first_cv=round(_cv(s), 4))
                s.samples = []
            _round_robin(noisy, bar, f"{model} re-measure")
            for s in noisy:
                cv = _cv(s)
                flags[s.cell.key()]["noisy"] = bool(cv is not None and cv > cv_threshold)
        for s in slots:
            record(s.cell, measurement=_measurement(s, flags[s.cell.key()]), artifact=s.artifact,
                   flags=flags[s.cell.key()])
    finally:
        for s in slots:
            s.runner.close()


def _cv(slot: _Slot):
    s = summarize(slot.samples)
    return s["cv"] if s["cv"] is not None and math.isfinite(s["cv"]) else None
