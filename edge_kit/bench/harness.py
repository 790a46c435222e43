"""`run_bench`: models x backends x precisions x threads on one device -> records in the results store.

On the host, the cells of one model are timed in turns (A B C A B C ..., each turn ~50 ms of runs) so
that drift from the other processes sharing the CPU hits every cell alike, then aggregated per cell.
Interleaving is per model, not across models, so only one model's runners are resident at a time.
A device with its own timing tool (a phone) is asked cell by cell. Each cell's record is appended as
soon as it is known: Ctrl-C keeps everything already written.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from edge_kit import formats
from edge_kit.bench.cell import BACKEND_ARTIFACT, Cell, Measurement
from edge_kit.bench.contained import measure_contained
from edge_kit.bench.interleave import measure_interleaved
from edge_kit.bench.machine import machine_id
from edge_kit.bench.progress import Progress
from edge_kit.bench.store import DEFAULT_DIR, ResultStore, make_record
from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact

PRECISIONS = formats.PRECISIONS
# Several phones benchmarked in parallel (android_runner.farm) share one conversion at a time: the
# cache makes the second worker's convert() a lookup instead of a second, concurrent conversion.
_CONVERT_LOCK = threading.Lock()
CV_THRESHOLD = 0.15  # above this a cell is re-measured once, then flagged "noisy" if still above


@dataclass
class BenchSummary:
    device: str
    results_path: str
    measured: list[str] = field(default_factory=list)
    skipped_done: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    noisy: list[str] = field(default_factory=list)
    interrupted: bool = False

    def text(self) -> str:
        lines = [f"measured {len(self.measured)} cell(s) on {self.device}, skipped {len(self.skipped_done)} "
                 f"already in the store, {len(self.failed)} failed; results: {self.results_path}"]
        if self.not_applicable:
            lines.append(f"  not applicable on {self.device} (not measured): {', '.join(self.not_applicable)}")
        lines += [f"  failed {k}: {why}" for k, why in self.failed]
        if self.noisy:
            lines.append(f"  noisy (cv > {CV_THRESHOLD:.0%} after one re-measure): {', '.join(self.noisy)}")
        if self.interrupted:
            lines.append("  interrupted: cells recorded before Ctrl-C are kept; re-run the command to resume")
        return "\n".join(lines)


def _artifacts_for(model: str, backends: list[str], precisions: list[str], device) -> dict:
    """(backend, precision) -> Artifact (status ok) or a reason string. The one seam to the converter."""
    try:
        from edge_kit.convert import convert
    except ImportError as err:
        raise EdgekitError(f"the converter (edge_kit.convert) is not available: {err}") from err
    formats = tuple(sorted({BACKEND_ARTIFACT[b][0] for b in backends} - {"paddle"}))
    # convert() always makes the x86 .nb twin with "paddlelite"; ask for a device .nb only off the host
    lite_target = device.artifact_target("paddlelite") if "paddlelite" in backends else "x86"
    lite_targets = () if lite_target == "x86" else (lite_target,)
    # int8 cells are calibrated on edgekit's own generated images (the manifest says so): latency does not
    # depend on what the calibration images show; accuracy is `edgekit eval`'s business.
    calib = {"calib": "builtin"} if "int8" in precisions else {}
    try:
        with _CONVERT_LOCK:
            artifacts = convert(model, to=formats, precisions=tuple(precisions), lite_targets=lite_targets, **calib)
    except EdgekitError as err:
        return {(b, p): f"conversion failed: {err}" for b in backends for p in precisions}
    out = {}
    for b in backends:
        fmt, target = BACKEND_ARTIFACT[b][0], device.artifact_target(b)
        for p in precisions:
            match = [a for a in artifacts if a.format == fmt and a.target == target
                     and (a.precision == p or fmt == "paddle")]
            if not match:
                out[(b, p)] = f"convert() produced no {fmt}/{target}/{p} artifact"
            elif not match[0].ok:
                m = match[0].manifest
                why = m.get("reason") or (m.get("parity") or {}).get("reason") or m.get("note") or "see manifest"
                out[(b, p)] = f"{fmt}/{target}/{p} artifact failed: {why} ({match[0].path})"
            else:
                out[(b, p)] = match[0]
    return out


FORMAT_BACKEND = {f.name: f.runtime for f in formats.FORMATS}


def load_artifacts(paths: list[str], device) -> list[Artifact]:
    """Artifacts given by path (`edgekit bench --artifact FILE`): each needs its manifest, and a target
    this device can run (an ARM .nb on a phone, the x86 .nb on the host)."""
    from pathlib import Path

    from edge_kit.manifest import manifest_path

    arts = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise EdgekitError(f"artifact {p} does not exist")
        if not manifest_path(path).is_file():
            raise EdgekitError(f"{p} has no {manifest_path(path).name} beside it; make it with `edgekit convert`")
        art = Artifact.load(path)
        _check_bytes(art)
        backend = FORMAT_BACKEND.get(art.format)
        if backend is None:
            raise EdgekitError(f"{p}: no backend runs {art.format} artifacts")
        want = device.artifact_target(backend)
        if art.target != want:
            raise EdgekitError(f"{p} is a {art.target} {art.format} artifact; {device.name} runs {want} ones")
        arts.append(art)
    return arts


def _check_bytes(art: Artifact) -> None:
    """The manifest's parity verdict is about the bytes it recorded: a file edited or truncated since
    would be timed as `parity: passed`. Refuse it instead."""
    from edge_kit.manifest import sha256_file

    want, got = art.manifest.get("sha256"), sha256_file(art.path)
    if want != got:
        raise EdgekitError(f"{art.path} no longer matches the sha256 in its manifest ({got[:12]}... on disk, "
                           f"{str(want)[:12]}... recorded): it changed after conversion; convert it again")


def _applicable(device, backend: str, precision: str, threads: int) -> bool:
    """Whether the cell exists on this device (e.g. no fp16 Paddle Inference); devices may not say."""
    supports = getattr(device, "supports", None)
    return True if supports is None else bool(supports(backend, precision, threads))


def _validate(models, device, backends, threads, precisions, warmup, repeats, min_secs) -> None:
    from edge_kit.zoo import get_model

    for m in models:
        get_model(m)  # unknown model -> UnknownModelError with suggestions
    # a runtime with neither a host runner nor an on-device tool (TensorRT) has its own device: --device gpu
    here = [r.name for r in formats.RUNTIMES if r.host or r.phone_tool]
    unknown = [b for b in backends if b not in here]
    if unknown:
        gpu = " (TensorRT: --device gpu)" if "tensorrt" in unknown else ""
        raise EdgekitError(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(here)}{gpu}")
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        raise EdgekitError(f"unknown precision(s) {', '.join(bad)}; choose from {', '.join(PRECISIONS)}")
    if not threads or any(t < 1 for t in threads):
        raise EdgekitError(f"threads must be positive integers, got {threads}")
    if warmup < 0 or (repeats is not None and repeats < 1) or (min_secs is not None and min_secs <= 0):
        raise EdgekitError("warmup must be >= 0, repeats >= 1 and min-secs > 0")


def run_bench(models: list[str], device, backends: Optional[list[str]] = None, threads=(1,),
              precisions=("fp32",), warmup: int = 10, repeats: Optional[int] = 50,
              min_secs: Optional[float] = None, force: bool = False, results_dir=DEFAULT_DIR,
              progress: bool = True, cv_threshold: float = CV_THRESHOLD,
              artifacts: tuple[Artifact, ...] = ()) -> BenchSummary:
    """Measure every cell not already in the store (all of them with force) and append the records.
    `artifacts` (from load_artifacts) are measured as given, at each thread count, without converting."""
    backends = list(backends or device.backends())
    _validate(models, device, backends, threads, precisions, warmup, repeats, min_secs)
    store = ResultStore(results_dir)
    store.check_writable()
    info = device.describe()
    done = set() if force else store.done_keys(machine_id(info))  # another machine's results are not ours
    summary = BenchSummary(device=device.name, results_path=str(store.path))
    available = set(device.backends())
    plan = []
    for model in models:
        cells = []
        for b in backends:
            for p in precisions:
                for t in threads:
                    c = Cell(model, b, p, int(t), device.name, warmup=warmup, repeats=repeats or 0,
                             min_secs=float(min_secs or 0.0))
                    if not _applicable(device, b, p, int(t)):
                        summary.not_applicable.append(c.key())
                    elif c.key() in done:
                        summary.skipped_done.append(c.key())
                    else:
                        cells.append(c)
        if cells:
            plan.append((model, cells))
    given = {}
    for art in artifacts:
        cells = []
        for t in threads:
            c = Cell(art.model, FORMAT_BACKEND[art.format], art.precision, int(t), device.name, warmup=warmup,
                     repeats=repeats or 0, min_secs=float(min_secs or 0.0))
            if c.key() in done:
                summary.skipped_done.append(c.key())
            else:
                cells.append(c)
                given[(c.key())] = art
        if cells:
            plan.append((art.model, cells))
    bar = Progress(sum(len(c) for _, c in plan), enabled=progress)

    def record(cell: Cell, *, measurement: Optional[Measurement] = None, artifact: Optional[Artifact] = None,
               reason: str = "", flags: Optional[dict] = None) -> None:
        status = "ok" if measurement is not None else "failed"
        store.append(make_record(cell, status=status, device_info=info, simulated=device.simulated,
                                 measurement=measurement, artifact=artifact, reason=reason, flags=flags))
        if status == "ok":
            summary.measured.append(cell.key())
            if (flags or {}).get("noisy"):
                summary.noisy.append(cell.key())
        else:
            summary.failed.append((cell.key(), reason))
        bar.update(f"{cell.key()} {status}", advance=1)

    try:
        for model, cells in plan:
            bar.update(f"{model}: converting", force=True)
            missing = [c for c in cells if c.backend not in available]
            for c in missing:
                record(c, reason=f"backend {c.backend} is not available on {device.name}")
            cells = [c for c in cells if c.backend in available]
            if not cells:
                continue
            if cells[0].key() in given:
                arts = {(c.backend, c.precision): given[c.key()] for c in cells}
            else:
                arts = _artifacts_for(model, sorted({c.backend for c in cells}),
                                      sorted({c.precision for c in cells}), device)
            runnable = []
            for c in cells:
                art = arts.get((c.backend, c.precision), "no artifact")
                if isinstance(art, str):
                    record(c, reason=art)
                else:
                    runnable.append((c, art))
            if getattr(device, "interleaves", False):
                # in a child process per model: a runtime that aborts fails its cells, not the run
                contain = measure_contained if getattr(device, "contained", False) else measure_interleaved
                contain(device, runnable, record, bar, cv_threshold)
            else:
                _measure_one_by_one(device, runnable, record, cv_threshold)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
    return summary


def _measure_one_by_one(device, runnable, record, cv_threshold: float) -> None:
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
