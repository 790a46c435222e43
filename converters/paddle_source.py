"""The Paddle side of every conversion: locate and validate a user's exported program, make an exported
program independent of where it was exported from, and compute reference outputs with Paddle Inference.
(Exporting a zoo model needs the zoo: edge_kit.conversion.zoo_export.)

Functions named `child_*` run inside converters.isolate (a child process): Paddle must see
FLAGS_enable_pir_api=0 before it is imported, and a corrupt program can crash it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from converters.errors import ModelFileError

LEGACY_ENV = {"FLAGS_enable_pir_api": "0", "GLOG_minloglevel": "2", "GLOG_v": "0"}


def locate_program(model_dir: Path) -> tuple[Path, Path]:
    """A user's exported inference model: model.pdmodel/.pdiparams or inference.*, or any single pair."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelFileError(f"{model_dir}: not a directory (expected an exported Paddle inference model)")
    for stem in ("model", "inference", "__model__"):
        prog, params = model_dir / f"{stem}.pdmodel", model_dir / f"{stem}.pdiparams"
        if prog.exists():
            if not params.exists():
                raise ModelFileError(f"{prog} has no {params.name} beside it")
            return prog, params
    progs = sorted(model_dir.glob("*.pdmodel"))
    if len(progs) == 1 and progs[0].with_suffix(".pdiparams").exists():
        return progs[0], progs[0].with_suffix(".pdiparams")
    # Paddle 3's default export (PIR): inference.json + inference.pdiparams
    for stem in ("inference", "model"):
        prog, params = model_dir / f"{stem}.json", model_dir / f"{stem}.pdiparams"
        if prog.exists():
            if not params.exists():
                raise ModelFileError(f"{prog} has no {params.name} beside it")
            return prog, params
    raise ModelFileError(f"{model_dir}: no model.pdmodel / inference.pdmodel / inference.json with its .pdiparams found")


def is_pir(prog: Path) -> bool:
    return Path(prog).suffix == ".json"


def _pir_ops(prog: Path) -> list[dict]:
    import json

    doc = json.loads(Path(prog).read_text())
    return doc["program"]["regions"][0]["blocks"][0]["ops"]


def _pir_attr(op: dict, name: str):
    return next((a["AT"]["D"] for a in op.get("A", []) if a.get("N") == name), None)


def check_program_file(prog: Path) -> None:
    """Parse the ProgramDesc in-process (cheap, cannot crash) so a corrupt file fails with a clear message."""
    from converters.program_proto import framework_pb2

    if is_pir(prog):
        try:
            ops = _pir_ops(prog)
        except Exception as exc:
            raise ModelFileError(f"{prog}: not a Paddle PIR program ({type(exc).__name__}); the file is corrupt or "
                                 "truncated")
        if not any(op.get("#") in ("1.data", "1.feed") for op in ops):
            raise ModelFileError(f"{prog}: parsed, but holds no inference program (no data op)")
        return

    desc = framework_pb2().ProgramDesc()
    try:
        desc.ParseFromString(Path(prog).read_bytes())
    except Exception as exc:
        raise ModelFileError(f"{prog}: not a Paddle program ({type(exc).__name__}); the file is corrupt or truncated")
    if not desc.blocks or not any(op.type == "feed" for op in desc.blocks[0].ops):
        raise ModelFileError(f"{prog}: parsed, but holds no inference program (no feed op)")


def program_io(prog: Path) -> tuple[list[dict], list[dict], list[str]]:
    """Inputs and outputs (name, shape, dtype) and the sorted op types of a legacy or PIR program."""
    from converters.program_proto import framework_pb2

    if is_pir(prog):
        ops = _pir_ops(prog)

        def out_type(op):
            t = op["O"][0]["TT"]["D"]
            return [int(d) for d in t[1]], t[0]["#"].replace("0.t_", "").replace("f32", "float32").replace(
                "f16", "float16").replace("i64", "int64").replace("i32", "int32")

        inputs = [{"name": _pir_attr(op, "name"), "shape": out_type(op)[0], "dtype": out_type(op)[1]}
                  for op in ops if op.get("#") == "1.data"]
        outputs = [{"name": _pir_attr(op, "name"), "shape": out_type(op)[0], "dtype": out_type(op)[1]}
                   for op in ops if op.get("#") == "1.fetch"]
        types = sorted({op["#"].split(".", 1)[1] for op in ops if op.get("#", "p") != "p"} - {"data", "fetch"})
        return inputs, outputs, types

    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(Path(prog).read_bytes())
    block = desc.blocks[0]
    vars_ = {v.name: v for v in block.vars}
    dtypes = {v: k.lower().replace("fp", "float") for k, v in framework_pb2().VarType.Type.items()}

    def describe(name):
        t = vars_[name].type.dense_tensor.tensor
        return {"name": name, "shape": list(t.dims), "dtype": dtypes.get(t.data_type, str(t.data_type))}

    feeds = sorted((op for op in block.ops if op.type == "feed"), key=lambda op: op.attrs[0].i)
    fetches = [op for op in block.ops if op.type == "fetch"]
    inputs = [describe(next(o.arguments[0] for o in op.outputs)) for op in feeds]
    outputs = [describe(next(i.arguments[0] for i in op.inputs)) for op in fetches]
    ops = sorted({op.type for op in block.ops} - {"feed", "fetch"})
    return inputs, outputs, ops


def strip_callstacks(prog: Path) -> int:
    """Drop each op's `op_callstack` attribute: the Python stack of the export (file paths of this checkout,
    line numbers of this module), which Paddle records but never reads at inference. Left in, it makes
    the program, and every .nb made from it, differ by where edgekit is installed and by edits to
    unrelated lines. Returns the number of ops changed."""
    from converters.program_proto import framework_pb2

    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(Path(prog).read_bytes())
    changed = 0
    for block in desc.blocks:
        for op in block.ops:
            keep = [a for a in op.attrs if a.name != "op_callstack"]
            if len(keep) != len(op.attrs):
                del op.attrs[:]
                op.attrs.extend(keep)
                changed += 1
    Path(prog).write_bytes(desc.SerializeToString())
    return changed


def save_outputs(path: str, per_image: list[list[np.ndarray]]) -> None:
    """Outputs per image (detections differ in count between images, so they are never concatenated)."""
    np.savez(path, **{f"img{b}_out{j}": a for b, outs in enumerate(per_image) for j, a in enumerate(outs)})


def load_outputs(path: str) -> list[list[np.ndarray]]:
    data = np.load(path)
    n_img = 1 + max(int(k[3:k.index("_")]) for k in data.files)
    n_out = 1 + max(int(k.split("_out")[1]) for k in data.files)
    return [[data[f"img{b}_out{j}"] for j in range(n_out)] for b in range(n_img)]
