"""The resolve step of a benchmark: which file each cell times, from an *artifact provider*.

A provider is any callable `provider(model, wants) -> {want: Artifact | reason}`: for each
Want(format, precision, target) it returns a usable Artifact, or a one-line reason why there is none
(that cell is then recorded as failed and the run goes on). `run_bench` asks it once per model with
everything that model's cells need, so a converting provider converts once.

The default, `convert_on_demand`, is what `edgekit bench` has always done: edge_kit.convert, whose
cache makes an already converted model a lookup. Callers with prepared files (tests, a build farm)
pass their own provider instead.
"""
from __future__ import annotations

import threading
from typing import Callable, Mapping, NamedTuple, Union

from edge_kit import formats
from edge_kit.bench.cell import BACKEND_ARTIFACT, Cell
from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact


class Want(NamedTuple):
    format: str      # "paddle", "paddlelite", "tflite", "onnx", ...
    precision: str   # "fp32", "fp16", "int8"
    target: str      # "cpu", "x86", "arm", ... (device.artifact_target(backend))


ArtifactProvider = Callable[[str, list[Want]], Mapping[Want, Union[Artifact, str]]]

# Several phones benchmarked in parallel (android_runner.farm) share one conversion at a time: the
# cache makes the second worker's convert() a lookup instead of a second, concurrent conversion.
_CONVERT_LOCK = threading.Lock()


def convert_on_demand(model: str, wants: list[Want]) -> dict[Want, Union[Artifact, str]]:
    """The default provider: convert `model` (or find it in the conversion cache) to every format,
    precision and target wanted, in one convert() call."""
    try:
        from edge_kit.convert import convert
    except ImportError as err:
        raise EdgekitError(f"the converter (edge_kit.convert) is not available: {err}") from err
    to = tuple(f for f in formats.CONVERT_FORMATS if f in {w.format for w in wants})  # the reference always comes
    precisions = tuple(sorted({w.precision for w in wants}))
    # convert() always makes the x86 .nb twin with "paddlelite"; ask for a device .nb only off the host
    lite = formats.fmt("paddlelite")
    lite_targets = tuple(sorted({w.target for w in wants if w.format == lite.name} - {lite.host_target}))
    # int8 cells are calibrated on edgekit's own generated images (the manifest says so): latency does not
    # depend on what the calibration images show; accuracy is `edgekit eval`'s business.
    calib = {"calib": "builtin"} if "int8" in precisions else {}
    try:
        with _CONVERT_LOCK:
            artifacts = convert(model, to=tuple(sorted(to)), precisions=precisions, lite_targets=lite_targets, **calib)
    except EdgekitError as err:
        return {w: f"conversion failed: {err}" for w in wants}
    out: dict[Want, Union[Artifact, str]] = {}
    for w in wants:
        fmt, p, target = w
        match = [a for a in artifacts if a.format == fmt and a.target == target
                 and (a.precision == p or fmt == "paddle")]
        if not match:
            out[w] = f"convert() produced no {fmt}/{target}/{p} artifact"
        elif not match[0].ok:
            m = match[0].manifest
            why = m.get("reason") or (m.get("parity") or {}).get("reason") or m.get("note") or "see manifest"
            out[w] = f"{fmt}/{target}/{p} artifact failed: {why} ({match[0].path})"
        else:
            out[w] = match[0]
    return out


def want_for(cell: Cell, device) -> Want:
    """The artifact a cell needs on this device (a phone's paddlelite needs the arm .nb, the host's x86)."""
    return Want(BACKEND_ARTIFACT[cell.backend][0], cell.precision, device.artifact_target(cell.backend))


def resolve(model: str, cells: list[Cell], device, provider: ArtifactProvider, record, available: set[str],
            given: Artifact | None = None) -> list[tuple[Cell, Artifact]]:
    """(cell, artifact) for each cell that can be measured; the others are recorded as failed with
    why. `given`: the artifact the user named (`--artifact`), timed as it is without asking the provider."""
    for c in cells:
        if c.backend not in available:
            record(c, reason=f"backend {c.backend} is not available on {device.name}")
    cells = [c for c in cells if c.backend in available]
    if not cells:
        return []
    if given is not None:
        arts = [(c, given) for c in cells]
    else:
        wants = [want_for(c, device) for c in cells]
        got = provider(model, list(dict.fromkeys(wants)))
        arts = [(c, got.get(w, "no artifact")) for c, w in zip(cells, wants)]
    runnable = []
    for c, art in arts:
        if isinstance(art, str):
            record(c, reason=art)
        else:
            runnable.append((c, art))
    return runnable
