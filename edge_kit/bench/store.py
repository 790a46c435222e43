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
from edge_kit.errors import OutputDirError
from edge_kit.manifest import Artifact, sha256_file

SCHEMA = "edgekit.bench/1"
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
    if m.get("format") == "paddle":  # the weights live beside the program; storage means both
        files.append(path.with_suffix(".pdiparams"))
    present = [f for f in files if f.exists()]
    return {
        "path": str(path), "format": m.get("format"), "target": m.get("target"),
        "precision": m.get("precision"), "status": m.get("status"),
        "bytes": sum(f.stat().st_size for f in present) if present else m.get("bytes"),
        "sha256": sha256_file(path) if path.exists() else m.get("sha256"),
        "parity": (m.get("parity") or {}).get("status"), "tools": m.get("tools", {}),
        "inputs": m.get("inputs", []),
    }


def make_record(cell: Cell, *, status: str, device_info: dict, simulated: bool,
                measurement: Optional[Measurement] = None, artifact: Optional[Artifact] = None,
                reason: str = "", flags: Optional[dict] = None) -> dict:
    return {
        "schema": SCHEMA, "key": cell.key(), "status": status, "reason": reason,
        "model": cell.model, "backend": cell.backend, "precision": cell.precision,
        "threads": cell.threads, "device": cell.device, "warmup": cell.warmup, "repeats": cell.repeats,
        "min_secs": cell.min_secs, "simulated": bool(simulated),
        "measurement": measurement.as_dict() if measurement is not None else None,
        "flags": flags or {}, "device_info": device_info, "artifact": artifact_summary(artifact),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


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

    def append(self, record: dict) -> None:
        line = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode()
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

    def records(self, warn: bool = True) -> Iterator[dict]:
        """Every well-formed record in file order; malformed lines are reported on stderr and skipped."""
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
                    if not isinstance(rec, dict) or "key" not in rec:
                        why = "not a result record"
                    elif rec.get("schema") != SCHEMA:
                        why = f"unknown schema {rec.get('schema')!r}"
                except (ValueError, UnicodeDecodeError):
                    why = "not valid JSON (partial write?)"
                if why:
                    self.skipped_lines.append((no, why))
                    if warn:
                        print(f"edgekit: warning: {self.path}:{no}: {why}; skipped", file=sys.stderr)
                    continue
                yield rec

    def latest(self) -> dict[str, dict]:
        """key -> the last record for that cell (a forced re-run supersedes the older one)."""
        out: dict[str, dict] = {}
        for rec in self.records():
            out[rec["key"]] = rec
        return out

    def done_keys(self) -> set[str]:
        """Cells finished successfully; failed cells are retried on the next run."""
        return {k for k, r in self.latest().items() if r.get("status") == "ok"}
