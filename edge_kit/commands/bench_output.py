"""What `edgekit bench` prints on stdout for a run: the numbers it measured (not the whole report)."""
from __future__ import annotations

import json


def _this_run(results_dir, summary, machine: str) -> list:
    from edge_kit.bench.store import ResultStore

    latest = ResultStore(results_dir).latest(machine)
    keys = summary.measured + summary.skipped_done + [k for k, _ in summary.failed]
    return [latest[k] for k in dict.fromkeys(keys) if k in latest]


def measured_lines(results_dir, summary, machine: str) -> str:
    """One line per cell of this run: its median and spread, or why it failed."""
    from edge_kit.report.tables import BACKEND_LABEL

    lines = []
    for r in _this_run(results_dir, summary, machine):
        what = (f"{r.model} {BACKEND_LABEL.get(r.backend, r.backend)} {r.precision} {r.threads}T "
                f"on {r.device}{' (simulated)' if r.simulated else ''}")
        m = r.measurement or {}
        if not r.ok:
            lines.append(f"{what}: FAILED: {r.reason}")
            continue
        stat = "avg" if m.get("median_ms") is None else "median"  # phone tools report averages only
        value = m.get("median_ms") if m.get("median_ms") is not None else m.get("mean_ms")
        noisy = " (noisy)" if r.noisy else ""
        cv = f", cv {m['cv']:.1%}" if m.get("cv") is not None else ""
        old = " [already in the store]" if r.key in summary.skipped_done else ""
        lines.append(f"{what}: {stat} {value:.2f} ms{noisy} (min {m.get('min_ms') or value:.2f}{cv}, "
                     f"{m.get('count')} runs){old}")
    return "\n".join(lines) if lines else "no cell measured"


def measured_json(results_dir, summary, machine: str) -> str:
    cells = []
    for r in _this_run(results_dir, summary, machine):
        m = r.measurement or {}
        cells.append({k: getattr(r, k) for k in ("key", "model", "backend", "precision", "threads", "device",
                                                  "simulated", "status", "reason")}
                     | {"median_ms": m.get("median_ms"), "mean_ms": m.get("mean_ms"), "min_ms": m.get("min_ms"),
                        "cv": m.get("cv"), "count": m.get("count"),
                        "noisy": r.noisy,
                        "already_in_store": r.key in summary.skipped_done})
    return json.dumps({"device": summary.device, "machine_id": machine, "results": summary.results_path,
                       "measured": len(summary.measured), "skipped": len(summary.skipped_done),
                       "failed": len(summary.failed), "not_applicable": summary.not_applicable,
                       "interrupted": summary.interrupted, "cells": cells}, indent=2)
