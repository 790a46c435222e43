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
from typing import ClassVar, Optional

from edge_kit.jsonrecord import JsonRecord

SCHEMA = "edgekit.manifest/1"
SCHEMAS = (SCHEMA,)   # every manifest layout this code reads; a new layout adds its name here
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


@dataclass(eq=False)
class Manifest(JsonRecord):
    """What an artifact is, how it was made and whether it computes what the reference computes.

    Nested values stay JSON: their keys depend on the format and the task (edge_kit.parity says what a
    parity report holds). Format-specific keys (ops, onnx_passes, compat_passes, valid_places,
    kernel_precisions, quantization, opset, export_fixes, tensorrt, ...) live in `extra`.
    """

    schema: str = SCHEMA
    model: Optional[str] = None
    task: Optional[str] = None
    format: Optional[str] = None       # a row of edge_kit.formats.FORMATS: "paddle" | "paddlelite" | "onnx" | ...
    target: Optional[str] = None       # "arm" | "opencl" | "x86" | "cpu" | "gpu" | "tensorrt"
    precision: Optional[str] = None    # "fp32" | "fp16" | "int8"
    file: Optional[str] = None         # None (written as null): the stage failed and made no file
    status: Optional[str] = None       # "ok" | "failed" | "unverified"
    reason: Optional[str] = None
    parity: Optional[dict] = None      # {status: "passed" | "failed" | "not_run" | "reference", reason, checks, metrics}
    bytes: Optional[int] = None
    sha256: Optional[str] = None
    inputs: Optional[list] = None      # [{name, shape, dtype, layout}]
    outputs: Optional[list] = None     # [{name, shape, dtype}]
    preprocess: Optional[dict] = None
    postprocess: Optional[dict] = None
    graph: Optional[str] = None        # "raw" | "deploy" (edge_kit.conversion.graphs)
    source: Optional[dict] = None      # {kind, ...}
    tools: Optional[dict] = None       # {name: version}
    seconds: Optional[float] = None
    verify_seconds: Optional[float] = None
    parity_arm64: Optional[dict] = None  # edge_kit.arm_check
    runs_here: Optional[bool] = None
    note: Optional[str] = None
    weights: Optional[str] = None      # the reference program's weights
    accepts: Optional[dict] = None     # a user's model: the shapes it accepts (edge_kit.shapes)
    origins: Optional[dict] = None
    labels_count: Optional[int] = None

    ALWAYS: ClassVar[frozenset] = frozenset({"schema"})
    # the keys the conversion pipeline writes for every file it makes, null or not
    ARTIFACT_KEYS: ClassVar[frozenset] = frozenset(
        "schema model task format target precision graph postprocess file bytes sha256 inputs outputs preprocess "
        "source tools seconds runs_here".split())

    @classmethod
    def from_dict(cls, d: dict) -> "Manifest":
        if not isinstance(d, dict):
            raise TypeError(f"a manifest is a JSON object, not {type(d).__name__}")
        schema = d.get("schema", SCHEMA)
        if schema not in SCHEMAS:
            raise ValueError(f"manifest schema {schema!r} is not one this edgekit reads ({', '.join(SCHEMAS)})")
        return super().from_dict(d)

    @property
    def parity_status(self) -> Optional[str]:
        return (self.parity or {}).get("status")


@dataclass
class Artifact:
    """A converted file and its manifest (a dict given here becomes a Manifest)."""

    path: Path
    manifest: Manifest

    def __post_init__(self) -> None:
        self.manifest = Manifest.of(self.manifest)

    @property
    def ok(self) -> bool:
        return self.manifest.status == "ok"

    @property
    def format(self) -> str:
        return self.manifest.format

    @property
    def target(self) -> str:
        return self.manifest.target

    @property
    def precision(self) -> str:
        return self.manifest.precision

    @property
    def model(self) -> str:
        return self.manifest.model

    @classmethod
    def load(cls, path: Path) -> "Artifact":
        path = Path(path)
        data = json.loads(manifest_path(path).read_text())
        try:
            return cls(path, Manifest.from_dict(data))
        except (TypeError, ValueError) as err:  # not a manifest, or a layout this version cannot read
            from edge_kit.errors import ModelFileError

            raise ModelFileError(f"{manifest_path(path)}: {err}") from None

    def save(self) -> None:
        atomic_write_text(manifest_path(self.path),
                          json.dumps(self.manifest.to_dict(), indent=2, sort_keys=True) + "\n")
