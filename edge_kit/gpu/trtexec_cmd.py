"""The exact `trtexec` command per model and precision, for users who run NVIDIA's own tool.

The line differs by TensorRT release because the tool changed (read from samples/common/sampleOptions.cpp):

  fp32   `--noTF32` everywhere: trtexec allows TF32 for fp32 layers by default, which is not an fp32 figure.
  fp16   8.6: the fp32 ONNX with `--fp16` (builder flag; weak typing);
         10:  the fp16 ONNX with `--stronglyTyped` (the same network TensorRT 11 builds);
         11:  the fp16 ONNX as it is (networks are strongly typed; `--fp16` no longer exists).
  timing `--warmUp`, `--iterations` with `--duration=0` (a fixed count, not 3 s), `--percentile=90,95,99`,
         `--exportTimes` (per-query JSON kept beside the log). TensorRT 11 stopped timing data transfers and
         started using CUDA graphs by default; `--includeDataTransfers --noCudaGraph` there keeps "Latency"
         the same end-to-end quantity (H2D + compute + D2H, plain enqueue) as on 8.6 and 10.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edge_kit.errors import EdgekitError

TRT_VERSIONS = ("8.6", "10", "11")
PRECISIONS = ("fp32", "fp16")


@dataclass
class TrtexecCommand:
    model: str
    precision: str
    trt: str
    args: list[str]
    log: Path
    onnx: Path
    prepared: bool      # the ONNX exists and passed parity (False: --no-prepare, paths are where it would go)

    def line(self) -> str:
        return f"{shlex.join(self.args)} 2>&1 | tee {shlex.quote(str(self.log))}"

    def import_line(self) -> str:
        return shlex.join(["edgekit", "import-trtexec", str(self.log), "--model", self.model,
                           "--precision", self.precision])


def prepared_onnx(out_dir: Path, model: str, precision: str) -> Path:
    return Path(out_dir) / model / f"{model}.trt.{precision}.onnx"


def trtexec_args(onnx: Path, inputs: list[dict], precision: str, trt: str, stem: Path, *, warmup_ms: int = 1000,
                 iterations: int = 500, trtexec: str = "trtexec") -> list[str]:
    if trt not in TRT_VERSIONS:
        raise EdgekitError(f"--trt {trt!r}: choose from {', '.join(TRT_VERSIONS)}")
    if precision not in PRECISIONS:
        raise EdgekitError(f"precision {precision!r}: choose from {', '.join(PRECISIONS)} (int8 needs calibration "
                           f"or a Q/DQ model, which edgekit does not make)")
    shapes = ",".join(f"{i['name']}:{'x'.join(str(d) for d in i['shape'])}" for i in inputs)
    args = [trtexec, f"--onnx={onnx}", f"--shapes={shapes}"]
    if precision == "fp32":
        args.append("--noTF32")
    elif trt == "8.6":
        args.append("--fp16")
    elif trt == "10":
        args.append("--stronglyTyped")
    args += [f"--warmUp={warmup_ms}", f"--iterations={iterations}", "--duration=0", "--percentile=90,95,99"]
    if trt == "11":
        args += ["--includeDataTransfers", "--noCudaGraph"]
    args += [f"--exportTimes={stem}.times.json", f"--saveEngine={stem}.engine"]
    return args


def build_commands(models: list[str], out_dir: Path, precisions=PRECISIONS, trt: str = "10", *,
                   prepare: bool = True, warmup_ms: int = 1000, iterations: int = 500,
                   trtexec: str = "trtexec", log=None) -> list[TrtexecCommand]:
    from edge_kit.manifest import Artifact, manifest_path
    from edge_kit.zoo import get_model

    out_dir = Path(out_dir)
    cmds = []
    for name in models:
        spec = get_model(name)
        ready: dict[str, Artifact] = {}
        if prepare:
            from edge_kit.gpu.model_prep import prepare_model

            # 8.6 builds fp16 from the fp32 ONNX with --fp16, so it needs the fp32 file in either case
            need = sorted({"fp32" if trt == "8.6" else p for p in precisions}, key=PRECISIONS.index)
            ready = {a.precision: a for a in prepare_model(spec.name, out_dir, need, log=log)}
        for prec in precisions:
            onnx_prec = "fp32" if trt == "8.6" else prec
            onnx = prepared_onnx(out_dir, spec.name, onnx_prec)
            art: Optional[Artifact] = ready.get(onnx_prec)
            if art is None and manifest_path(onnx).exists():
                art = Artifact.load(onnx)
            inputs = (art.manifest.inputs if art is not None else
                      [{"name": "image", "shape": list(spec.input_shape)}])  # edgekit's ONNX input name
            stem = out_dir / spec.name / f"{spec.name}.{prec}.trt{trt}"
            args = trtexec_args(onnx, inputs, prec, trt, stem, warmup_ms=warmup_ms, iterations=iterations,
                                trtexec=trtexec)
            cmds.append(TrtexecCommand(spec.name, prec, trt, args, Path(f"{stem}.log"), onnx,
                                       art is not None and art.ok))
    return cmds
