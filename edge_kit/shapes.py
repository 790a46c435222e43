"""Input shapes: what a model declares (with -1 for dynamic dims), what the user gives with
`--input-shape`, and the concrete shape edgekit verifies at.

A dynamic dimension that changes what the network computes (height, width, channels) is never filled
in by a guess: without a shape from the user (or a fixed-size resize in the export's own config) the
conversion stops and says which input and dim is dynamic and how to set it. A dynamic batch is different:
every artifact is verified one image at a time, so it is verified at batch 1 and the formats that keep
dynamic dims (.nb, ONNX) keep it; a TFLite file cannot, so it is made at batch 1 and its manifest says so.
"""
from __future__ import annotations

import re
from typing import Optional

from edge_kit.errors import EdgekitError

DIM_NAMES = {0: "batch", 1: "channels", 2: "height", 3: "width"}


class InputShapeError(EdgekitError):
    pass


def parse_input_shapes(specs) -> dict[str, list[int]]:
    """`--input-shape` values -> {input name: dims}. Each is `NAME:1,3,640,640`, or `1,3,640,640` for a
    model with one input (stored under the name "")."""
    if not specs:
        return {}
    if isinstance(specs, dict):
        return {str(k): [int(d) for d in v] for k, v in specs.items()}
    out: dict[str, list[int]] = {}
    for spec in ([specs] if isinstance(specs, str) else specs):
        for part in re.split(r"\s+(?=[^\s,:]+:)|;", spec.strip()):
            if not part:
                continue
            name, _, dims = part.rpartition(":")
            try:
                shape = [int(d) for d in dims.split(",")]
            except ValueError:
                raise InputShapeError(f"--input-shape {part!r}: dims must be integers, e.g. image:1,3,640,640")
            if any(d <= 0 for d in shape):
                raise InputShapeError(f"--input-shape {part!r}: every dim must be a positive integer")
            if name in out:
                raise InputShapeError(f"--input-shape gives input {name or '(the only input)'!r} twice")
            out[name] = shape
    return out


def _dims_text(dims: list[int]) -> str:
    return ", ".join(f"dim {i} ({DIM_NAMES.get(i, 'dim')})" for i in dims)


def resolve_shape(name: str, declared: list[int], given: dict[str, list[int]],
                  config_hw: Optional[tuple[int, int]] = None, config_origin: str = "") -> tuple[list[int], dict]:
    """The concrete NCHW shape to verify at, and where each part came from. Raises InputShapeError when
    a dynamic dim that matters has no value."""
    user = given.get(name, given.get("") if len(given) == 1 and "" in given else None)
    unknown = set(given) - {name, ""}
    if unknown:
        raise InputShapeError(f"--input-shape names input {sorted(unknown)[0]!r}, but the model's input is {name!r}")
    if user is not None:
        if len(user) != len(declared):
            raise InputShapeError(f"--input-shape {name}: {len(user)} dims given, the model's input {name!r} has "
                                  f"{len(declared)} ({declared})")
        clash = [i for i, (d, u) in enumerate(zip(declared, user)) if d > 0 and d != u]
        if clash:
            i = clash[0]
            raise InputShapeError(f"--input-shape {name}: dim {i} ({DIM_NAMES.get(i, 'dim')}) is fixed at "
                                  f"{declared[i]} in the model, not {user[i]}")
        if user[0] != 1:
            raise InputShapeError(f"--input-shape {name}: batch {user[0]}: edgekit verifies every artifact one "
                                  "image at a time, so give batch 1 (a dynamic batch stays dynamic in .nb and ONNX)")
        return list(user), {"shape": "--input-shape", "declared": list(declared)}
    shape, origin = list(declared), {"declared": list(declared)}
    if shape and shape[0] <= 0:
        shape[0] = 1
        origin["batch"] = "dynamic in the model: verified at batch 1"
    missing = [i for i, d in enumerate(shape) if d <= 0]
    if missing and config_hw and len(shape) == 4 and set(missing) <= {2, 3}:
        shape[2], shape[3] = config_hw
        origin["height_width"] = f"dynamic in the model: {config_hw[0]}x{config_hw[1]} from {config_origin}"
        missing = []
    if missing:
        example = ",".join(str(d) if d > 0 else ("1" if i == 0 else {2: "H", 3: "W"}.get(i, "N"))
                           for i, d in enumerate(declared))
        raise InputShapeError(f"input {name!r} {declared} has dynamic {_dims_text(missing)}; edgekit will not "
                              f"guess a size: give it with --input-shape {name}:{example}")
    origin["shape"] = "the model" if len(origin) == 1 else "the model, with the dynamic dims filled as noted"
    return shape, origin


def _from_onnx(fmt: str) -> bool:
    from edge_kit import formats

    return fmt in formats.ONNX_DERIVED


def accepts(declared: list[int], verified: list[int], fmt: str) -> dict:
    """What an artifact of this format accepts, for its manifest."""
    # a format made from the ONNX by the table's generic stage (edge_kit.formats.FromOnnx) declares what it keeps
    keeps_dynamic = fmt in ("paddle", "paddlelite", "onnx") or _from_onnx(fmt)
    shape = [d if (d > 0 or not keeps_dynamic) else -1 for d in declared] if keeps_dynamic else list(verified)
    dynamic = [DIM_NAMES.get(i, str(i)) for i, d in enumerate(shape) if d <= 0]
    note = (f"any {', '.join(dynamic)} (-1 = dynamic); verified at {verified}" if dynamic else
            f"exactly {shape}")
    if not keeps_dynamic and any(d <= 0 for d in declared):
        pinned = [DIM_NAMES.get(i, str(i)) for i, d in enumerate(declared) if d <= 0]
        note += f"; TFLite needs static dims: the source's dynamic {', '.join(pinned)} are pinned to {verified}"
    return {"shape": shape, "note": note}
