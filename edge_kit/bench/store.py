"""Benchmark results as JSON lines: one record per measured (or failed) cell, appended, never rewritten.

Why one `os.write` of a whole line + fsync: a crash or Ctrl-C between records leaves the file ending in
a complete line, and a crash inside the write can at worst leave one partial last line, which readers
report and skip. A later record for the same cell key supersedes an earlier one (`--force` appends).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

from edge_kit.bench.cell import Cell, Measurement
from edge_kit.bench.record import SCHEMA, SCHEMAS, BenchRecord
from edge_kit.errors import OutputDirError
from edge_kit.jsonrecord import JsonRecord
from edge_kit.manifest import Artifact, sha256_file

__all__ = ["SCHEMA", "BenchRecord", "ResultStore", "artifact_summary", "make_record"]
DEFAULT_DIR = "bench_results"
FILENAME = "results.jsonl"
_APPEND_LOCK = threading.Lock()   # parallel phone workers in one process append one whole line at a time


def artifact_summary(artifact: Optional[Artifact]) -> Optional[dict]:
    """What was timed: path, size on disk (program + weights for Paddle), sha256, how it was made."""
    if artifact is None:
        return None
    m = artifact.manifest
    path = Path(artifact.path)
    files = [path]
    if m.format == "paddle":  # the weights live beside the program; storage means both
        files.append(path.with_suffix(".pdiparams"))
    present = [f for f in files if f.exists()]
    return {
        "path": str(path), "format": m.format, "target": m.target, "precision": m.precision, "status": m.status,
        "bytes": sum(f.stat().st_size for f in present) if present else m.bytes,
        "sha256": sha256_file(path) if path.exists() else m.sha256,
        "parity": m.parity_status, "tools": m.tools if m.tools is not None else {},
        "inputs": m.inputs if m.inputs is not None else [],
    }


def make_record(cell: Cell, *, status: str, device_info: dict, simulated: bool,
                measurement: Optional[Measurement] = None, artifact: Optional[Artifact] = None,
                reason: str = "", flags: Optional[dict] = None) -> BenchRecord:
    return BenchRecord(
        schema=SCHEMA, key=cell.key(), status=status, reason=reason,
        model=cell.model, backend=cell.backend, precision=cell.precision,
        threads=cell.threads, device=cell.device, warmup=cell.warmup, repeats=cell.repeats,
        min_secs=cell.min_secs, simulated=bool(simulated),
        measurement=measurement.as_dict() if measurement is not None else None,
        flags=flags or {}, device_info=device_info, artifact=artifact_summary(artifact),
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )


class ResultStore:
    def __init__(self, results_dir: str | Path = DEFAULT_DIR, filename: str = FILENAME):
        self.dir = Path(results_dir)
        self.path = self.dir / filename
        self.skipped_lines: list[tuple[int, str]] = []  # (line number, why) of malformed lines

    def check_writable(self) -> None:
        """Fail before measuring anything rather than after minutes of work."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.close(fd)
        except OSError as err:
            raise OutputDirError(f"cannot write benchmark results to {self.path}: {err.strerror or err}") from err

    def append(self, record: JsonRecord | dict) -> None:
        """One record as one line (a BenchRecord, or the dict of another store such as accuracy.jsonl)."""
        data = record.to_dict() if isinstance(record, JsonRecord) else record
        line = (json.dumps(data, sort_keys=True, allow_nan=False) + "\n").encode()
        with _APPEND_LOCK:
            self._append_line(line)

    def _append_line(self, line: bytes) -> None:
        self.check_writable()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            self._heal_partial_tail(fd)
            view = memoryview(line)
            while view:  # a regular-file write is whole in practice; loop in case it is not
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as err:
            raise OutputDirError(f"cannot write benchmark results to {self.path}: {err.strerror or err}") from err
        finally:
            os.close(fd)

    def _heal_partial_tail(self, fd: int) -> None:
        # A crash mid-write leaves a last line without "\n"; start ours on a fresh line so only the
        # broken record is lost, not the next one too.
        size = os.fstat(fd).st_size
        if size:
            with open(self.path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    os.write(fd, b"\n")

    def records(self, warn: bool = True) -> Iterator[BenchRecord]:
        """Every well-formed record in file order; malformed lines are reported on stderr and skipped."""
        for rec in self.objects(SCHEMAS, required=("key",), warn=warn):
            yield BenchRecord.from_dict(rec)

    def objects(self, schemas: tuple[str, ...], required: tuple[str, ...] = (), warn: bool = True) -> Iterator[dict]:
        """Every JSON object of one of `schemas` (with the `required` keys) in file order, for stores of
        other records than BenchRecord (accuracy.jsonl); malformed lines are reported and skipped."""
        self.skipped_lines = []
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for no, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                why = None
                try:
                    rec = json.loads(raw)
                    if not isinstance(rec, dict) or any(k not in rec for k in required):
                        why = "not a result record"
                    elif rec.get("schema") not in schemas:
                        why = f"unknown schema {rec.get('schema')!r}"
                except (ValueError, UnicodeDecodeError):
                    why = "not valid JSON (partial write?)"
                if why:
                    self.skipped_lines.append((no, why))
                    if warn:
                        print(f"edgekit: warning: {self.path}:{no}: {why}; skipped", file=sys.stderr)
                    continue
                yield rec

    def latest(self, machine: Optional[str] = None) -> dict[str, BenchRecord]:
        """key -> the record that stands for that cell: the last one, except that a clean (ok, not noisy)
        measurement is not replaced by a later noisy one (a `--force` re-run under load must not turn a
        quiet 2.09 ms into `7.00 (noisy)`; a later failure does replace it: the cell fails now). With `machine`, only that machine's records
        (edge_kit.bench.machine); without, keys of other machines than the newest record's are
        `<key>@<machine id>` so two machines' cells never overwrite each other."""
        from edge_kit.bench.machine import machine_id

        out: dict[str, BenchRecord] = {}
        for rec in self.records():
            mid = machine_id(rec.device_info)
            if machine is not None and mid != machine:
                continue
            key = rec.key if machine is not None else f"{rec.key}@{mid}"
            old = out.get(key)
            if old is not None and _clean(old) and rec.ok and not _clean(rec):
                continue
            out[key] = rec
        if machine is not None:
            return out
        per_cell: dict[str, int] = {}
        for k in out:
            per_cell[k.rsplit("@", 1)[0]] = per_cell.get(k.rsplit("@", 1)[0], 0) + 1
        return {(k.rsplit("@", 1)[0] if per_cell[k.rsplit("@", 1)[0]] == 1 else k): r for k, r in out.items()}

    def done_keys(self, machine: Optional[str] = None) -> set[str]:
        """Cells finished successfully (on `machine`, if given); failed cells are retried on the next run."""
        return {k for k, r in self.latest(machine).items() if r.ok}


def _clean(rec: BenchRecord) -> bool:
    return rec.ok and not rec.noisy

