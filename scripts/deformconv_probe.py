"""Can PP-YOLO's deformable conv v2 go through edgekit's converters with parity? A probe on a tiny network
(tests/fixtures/deform_net.py: two DCNv2 layers, stride 1 and 2, offsets of +-2 px) exported as edgekit
exports the zoo, each step run through edgekit's own converter children, every result compared with Paddle
Inference on the same three images:

  1. paddle2onnx 2.1 at edgekit's opset 17, then at 19 (ONNX DeformConv exists from opset 19);
  2. onnxruntime (the installed, pinned version) on the opset-19 file;
  3. the same file with every DeformConv rewritten into standard ops (GridSample + Mul + 1x1 Conv, see
     converters/onnx_deform_conv.py) on the installed onnxruntime: what a runtime without DeformConv would need;
  4. Paddle-Lite Opt: x86 (run here), arm fp32 / fp16 and opencl (kernels picked, not runnable here);
  5. onnx2tf on the opset-19 file and on the rewritten one.

    python scripts/deformconv_probe.py [-o bench_results/deformconv_probe.json]

(onnx.reference's numpy DeformConv is not used: on this 32x32 net it grew past 16 GB and was OOM-killed.)
Writes the JSON record (versions, every error text verbatim, every cosine) and prints one line per step.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from converters import paddle_lite  # noqa: E402
from converters.isolate import run_isolated  # noqa: E402
from converters.onnx_deform_conv import decompose_deform_conv  # noqa: E402
from converters.onnx_export import child_paddle_to_onnx, onnx_op_histogram  # noqa: E402
from converters.paddle_source import LEGACY_ENV, load_outputs  # noqa: E402
from edge_kit.conversion.reference import child_reference_outputs  # noqa: E402
from edge_kit.images import natural_images  # noqa: E402
from edge_kit.parity import _align, tensor_metrics  # noqa: E402  (_align: TFLite's NHWC back to NCHW)

FIXTURE = ROOT / "tests" / "fixtures" / "deform_net.py"
COSINE_GATE = 0.99999  # edgekit's fp32 gate


def _compare(ref: list[list[np.ndarray]], got: list[list[np.ndarray]]) -> dict:
    worst = None
    for r_img, g_img in zip(ref, got):
        for r, g in zip(r_img, g_img):
            m = tensor_metrics(r, _align(r, np.asarray(g)))
            if worst is None or m["cosine"] < worst["cosine"]:
                worst = m
    worst["passed"] = worst["cosine"] >= COSINE_GATE
    return worst


def _step(record: dict, name: str, fn):
    t0 = time.perf_counter()
    try:
        record[name] = {"ok": True, **(fn() or {})}
    except Exception as exc:  # the probe records every failure verbatim and goes on
        record[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    record[name]["seconds"] = round(time.perf_counter() - t0, 2)
    shown = {k: v for k, v in record[name].items() if k in ("ok", "error", "cosine", "passed", "max_abs", "note")}
    print(f"{name}: {json.dumps(shown)[:600]}", flush=True)


def run_onnxruntime(path: Path, images: np.ndarray) -> list[list[np.ndarray]]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return [sess.run(None, {name: images[b:b + 1]}) for b in range(len(images))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "bench_results" / "deformconv_probe.json")
    ap.add_argument("--keep", type=Path, help="keep the files made here (default: a temporary directory)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="edgekit-dcn-probe-"))
    work.mkdir(parents=True, exist_ok=True)
    tools = {n: version(n) for n in ("paddlepaddle", "paddle2onnx", "onnx", "onnxruntime", "paddlelite", "onnx2tf",
                                     "tensorflow")}
    record: dict = {"what": __doc__.split("\n\n")[0].replace("\n", " "), "tools": tools,
                    "python": platform.python_version(), "machine": platform.machine(),
                    "load_average": os.getloadavg(), "cosine_gate": COSINE_GATE}
    print(f"tools: {tools}", flush=True)

    # the fixture, exported as the zoo is (legacy program), and the reference run by Paddle Inference
    model_dir = work / "paddle"
    model_dir.mkdir(exist_ok=True)
    subprocess.run([sys.executable, str(FIXTURE), str(model_dir)], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    program, params = model_dir / "inference.pdmodel", model_dir / "inference.pdiparams"
    from converters.program_proto import framework_pb2

    desc = framework_pb2().ProgramDesc()
    desc.ParseFromString(program.read_bytes())
    record["paddle_ops"] = sorted({op.type for b in desc.blocks for op in b.ops} - {"feed", "fetch"})
    imgs = natural_images(3, 32, 32, seed=5).astype(np.float32) / 255.0
    images = np.ascontiguousarray(((imgs - 0.5) / 0.25).transpose(0, 3, 1, 2))
    np.savez(work / "inputs.npz", image=images)
    run_isolated(child_reference_outputs, {"program": str(program), "params": str(params),
                                           "inputs_npz": str(work / "inputs.npz"), "out_npz": str(work / "ref.npz")},
                 model="deform_net", stage="reference run", tool="Paddle Inference", env=LEGACY_ENV)
    ref = load_outputs(str(work / "ref.npz"))
    record["reference"] = {"runtime": f"Paddle Inference {tools['paddlepaddle']} (CPU)",
                           "output_shape": list(ref[0][0].shape), "images": 3}

    onnx17, onnx19 = work / "deform17.onnx", work / "deform19.onnx"
    export = dict(program=str(program), params=str(params))

    def to_onnx(opset, out):
        return lambda: {"export": run_isolated(child_paddle_to_onnx, {**export, "out_file": str(out), "opset": opset},
                                               model="deform_net", stage=f"onnx export (opset {opset})",
                                               tool="paddle2onnx"),
                        "onnx_ops": onnx_op_histogram(out)}

    _step(record, "paddle2onnx_opset17", to_onnx(17, onnx17))
    _step(record, "paddle2onnx_opset19", to_onnx(19, onnx19))
    _step(record, "onnxruntime_deformconv", lambda: _compare(ref, run_onnxruntime(onnx19, images)))

    decomposed = work / "deform19_decomposed.onnx"

    def rewrite_and_run():
        import onnx

        model, n = decompose_deform_conv(onnx.load(str(onnx19)))
        onnx.save(model, str(decomposed))
        return {**_compare(ref, run_onnxruntime(decomposed, images)), "rewritten": n,
                "onnx_ops": onnx_op_histogram(decomposed),
                "note": f"DeformConv -> GridSample + Mul + 1x1 Conv, onnxruntime {tools['onnxruntime']}"}

    _step(record, "onnxruntime_decomposed", rewrite_and_run)

    def lite(target, fp16):
        def go():
            stem = work / f"deform.{target}.{'fp16' if fp16 else 'fp32'}"
            run_isolated(paddle_lite.child_opt, {"program": str(program), "params": str(params), "out_stem": str(stem),
                                                 "target": target, "fp16": fp16},
                         model="deform_net", stage=f"paddlelite {target}", tool="paddlelite Opt")
            nb = Path(str(stem) + ".nb")
            keys = sorted({k.decode() for k in re.findall(rb"deformable_conv/[a-z0-9_]+/\d+/\d+/\d+", nb.read_bytes())})
            out = {"deformable_conv_kernels": keys, "kernel_precisions": paddle_lite.nb_kernel_precisions(nb)}
            if target == "x86":
                from edge_kit.infer import run_paddlelite

                out.update(_compare(ref, run_paddlelite(nb, [images])))
            else:
                out["note"] = "ARM/OpenCL kernels: not runnable on this x86 machine"
            return out
        return go

    _step(record, "paddlelite_x86", lite("x86", False))
    _step(record, "paddlelite_arm_fp32", lite("arm", False))
    _step(record, "paddlelite_arm_fp16", lite("arm", True))
    _step(record, "paddlelite_opencl", lite("opencl", False))

    def tflite(src):
        def go():
            from converters import tflite as tfl
            from edge_kit.images import natural_images as nat

            out_dir = work / f"tflite_{src.stem}"
            out_dir.mkdir(exist_ok=True)
            tfl.write_calibration_file(out_dir, nat(20, 32, 32, seed=7))
            run_isolated(tfl.child_onnx_to_tflite, {"onnx_file": str(src), "workdir": str(out_dir),
                                                    "out_fp32": str(out_dir / "m.fp32.tflite"),
                                                    "out_fp16": str(out_dir / "m.fp16.tflite"), "strict": False},
                         model="deform_net", stage="tflite", tool="onnx2tf", cwd=out_dir)
            from edge_kit.infer import run_tflite

            return _compare(ref, run_tflite(out_dir / "m.fp32.tflite", [images]))
        return go

    _step(record, "onnx2tf_deformconv", tflite(onnx19))
    if decomposed.exists():
        _step(record, "onnx2tf_decomposed", tflite(decomposed))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=1, default=float) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
