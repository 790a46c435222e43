"""Artifact manifests: a JSON file beside every artifact saying what it is, how it was made and
whether it computes the same numbers as the Paddle reference.

`<file>.manifest.json` sits next to `<file>`. Readers (bench, inspect, bundle, the device runner)
use `Artifact.load(path)` and never guess from file names.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCHEMA = "edgekit.manifest/1"
SUFFIX = ".manifest.json"


def manifest_path(artifact: Path) -> Path:
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + SUFFIX)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file + rename so a crash never leaves a half-written file that looks valid."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a manifest or report is for everyone to read
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@dataclass
class Artifact:
    """A converted file and its manifest.

    Manifest keys (all written by the converters):
      schema, model, task, format ("paddle" | "paddlelite" | "onnx" | "tflite" | "tensorrt"),
      target ("arm" | "opencl" | "x86" | "cpu" | "gpu"), precision ("fp32" | "fp16" | "int8"),
      file, bytes, sha256, inputs [{name, shape, dtype, layout}], outputs [{name, shape, dtype}],
      preprocess {...}, postprocess {...}, source {kind, ...}, tools {name: version},
      seconds, parity {status: "passed" | "failed" | "not_run", reason, checks, metrics},
      status ("ok" | "failed"), runs_here (bool), note.
    """

    path: Path
    manifest: dict

    @property
    def ok(self) -> bool:
        return self.manifest.get("status") == "ok"

    @property
    def format(self) -> str:
        return self.manifest["format"]

    @property
    def target(self) -> str:
        return self.manifest["target"]

    @property
    def precision(self) -> str:
        return self.manifest["precision"]

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @classmethod
    def load(cls, path: Path) -> "Artifact":
        path = Path(path)
        return cls(path, json.loads(manifest_path(path).read_text()))

    def save(self) -> None:
        atomic_write_text(manifest_path(self.path), json.dumps(self.manifest, indent=2, sort_keys=True) + "\n")
