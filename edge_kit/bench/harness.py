"""`run_bench`: models x backends x precisions x threads on one device -> records in the results store.

Four steps, each its own module: plan (edge_kit.bench.plan: which cells, minus those not applicable
here and those this machine already has), resolve (edge_kit.bench.artifacts: the file each cell times,
from an artifact provider; by default converted on demand), measure (edge_kit.bench.measure) and record
(edge_kit.bench.recorder).

On the host, the cells of one model are timed in turns (A B C A B C ..., each turn ~50 ms of runs) so
that drift from the other processes sharing the CPU hits every cell alike, then aggregated per cell.
Interleaving is per model, not across models, so only one model's runners are resident at a time.
A device with its own timing tool (a phone) is asked cell by cell. Each cell's record is appended as
soon as it is known: Ctrl-C keeps everything already written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from edge_kit import formats
from edge_kit.bench.artifacts import ArtifactProvider, convert_on_demand, resolve
from edge_kit.bench.machine import machine_id
from edge_kit.bench.measure import measure_cells
from edge_kit.bench.plan import plan_cells
from edge_kit.bench.progress import Progress
from edge_kit.bench.recorder import Recorder
from edge_kit.bench.store import DEFAULT_DIR, ResultStore
from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact

PRECISIONS = formats.PRECISIONS
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
              artifacts: tuple[Artifact, ...] = (), provider: Optional[ArtifactProvider] = None) -> BenchSummary:
    """Measure every cell not already in the store (all of them with force) and append the records.
    `artifacts` (from load_artifacts) are measured as given, at each thread count, without converting.
    `provider` gives the other cells their artifacts (edge_kit.bench.artifacts; default: convert on demand)."""
    # by default every backend the device has, except opt-in ones (edge_kit.formats: Runtime.default)
    backends = list(backends or [b for b in device.backends()
                                 if b not in formats.RUNTIME_NAMES or formats.runtime(b).default])
    _validate(models, device, backends, threads, precisions, warmup, repeats, min_secs)
    store = ResultStore(results_dir)
    store.check_writable()
    info = device.describe()
    done = set() if force else store.done_keys(machine_id(info))  # another machine's results are not ours
    plan = plan_cells(models, device, backends, precisions, threads, done,
                      given=[(FORMAT_BACKEND[a.format], a) for a in artifacts],
                      warmup=warmup, repeats=repeats or 0, min_secs=float(min_secs or 0.0))
    summary = BenchSummary(device=device.name, results_path=str(store.path),
                           skipped_done=list(plan.skipped_done), not_applicable=list(plan.not_applicable))
    available = set(device.backends())
    bar = Progress(plan.size, enabled=progress)
    record = Recorder(store, summary, info, device.simulated, bar)
    try:
        for step in plan.steps:
            bar.update(f"{step.model}: converting", force=True)
            runnable = resolve(step.model, step.cells, device, provider or convert_on_demand, record, available,
                               given=step.artifact)
            measure_cells(device, runnable, record, bar, cv_threshold)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
    return summary
