"""A zoo model's TensorRT ONNX files: edgekit's verified raw-graph ONNX -> prepare() -> OUT/MODEL/.

Re-running is cheap: files whose manifest says ok and whose source sha256 matches the current ONNX are
kept. The parity images are the model's own (edge_kit.images.sample_inputs), as for every artifact.
"""
from __future__ import annotations

import sys
from pathlib import Path

from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact, manifest_path


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepare_model(model: str, out_dir: Path, precisions=("fp32", "fp16"), log=None) -> list[Artifact]:
    from edge_kit.convert import convert
    from edge_kit.gpu.prepare import prepare
    from edge_kit.images import sample_inputs
    from edge_kit.zoo import get_model

    log = log or _stderr
    spec = get_model(model)
    if not spec.implemented:
        why = f" ({spec.not_implemented_why})" if spec.not_implemented_why else ""
        raise EdgekitError(f"{spec.name} is listed from the seed but not implemented by edgekit{why}; no ONNX to prepare")
    artifacts = convert(spec.name, to=("onnx",), precisions=("fp32",), log=log)
    onnx = [a for a in artifacts if a.format == "onnx"]
    if not onnx or not onnx[0].ok:
        why = (onnx[0].manifest.reason if onnx else None) or "see its manifest"
        raise EdgekitError(f"{spec.name}: edgekit's ONNX is not verified ({why}); nothing to prepare for TensorRT")
    src = onnx[0]
    dest = Path(out_dir) / spec.name
    kept, todo = [], []
    for prec in precisions:
        path = dest / f"{spec.name}.trt.{prec}.onnx"
        if manifest_path(path).exists() and path.exists():
            art = Artifact.load(path)
            if art.ok and (art.manifest.source or {}).get("sha256") == src.manifest.sha256:
                kept.append(art)
                continue
        todo.append(prec)
    if not todo:
        return kept
    log(f"[{spec.name}] tensorrt onnx: {', '.join(todo)} (audit, rewrite, onnxruntime parity)")
    made = prepare(src, dest, model=spec.name, task=spec.task, inputs=[sample_inputs(spec)], precisions=todo)
    return sorted(kept + made, key=lambda a: list(precisions).index(a.precision))
