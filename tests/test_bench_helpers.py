"""Real tiny artifacts for the bench tests (no test functions here; imported by tests/test_bench_*.py).

A small conv net is exported the way the converter does it (legacy .pdmodel via FLAGS_enable_pir_api=0,
paddle2onnx, an x86 .nb from Lite's Opt with "x86,arm") plus a TFLite file of the same shape made with
TFLiteConverter. Each step runs in a child process: Paddle's export flag must be set before import, and
Opt/paddle2onnx can kill the process instead of raising.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from edge_kit.manifest import Artifact, sha256_file

SHAPE = [1, 3, 32, 32]

_PADDLE = textwrap.dedent("""
    import os, sys
    os.environ["FLAGS_enable_pir_api"] = "0"
    import paddle
    paddle.seed(0)
    out = sys.argv[1]
    net = paddle.nn.Sequential(
        paddle.nn.Conv2D(3, 8, 3, padding=1), paddle.nn.BatchNorm2D(8), paddle.nn.ReLU(),
        paddle.nn.Conv2D(8, 16, 3, stride=2, padding=1), paddle.nn.ReLU(),
        paddle.nn.AdaptiveAvgPool2D(1), paddle.nn.Flatten(), paddle.nn.Linear(16, 10))
    net.eval()
    spec = [paddle.static.InputSpec([1, 3, 32, 32], "float32", "x")]
    paddle.jit.save(net, os.path.join(out, "model"), input_spec=spec)
    import paddle2onnx
    paddle2onnx.export(os.path.join(out, "model.pdmodel"), os.path.join(out, "model.pdiparams"),
                       os.path.join(out, "model.onnx"), opset_version=13)
""")

_OPT = textwrap.dedent("""
    import sys
    import paddlelite.lite as lite
    opt = lite.Opt()
    opt.set_model_file(sys.argv[1] + "/model.pdmodel")
    opt.set_param_file(sys.argv[1] + "/model.pdiparams")
    opt.set_valid_places("x86,arm")
    opt.set_model_type("naive_buffer")
    opt.set_optimize_out(sys.argv[1] + "/model_x86")
    opt.run()
""")

_TFLITE = textwrap.dedent("""
    import sys
    import tensorflow as tf
    tf.random.set_seed(0)
    m = tf.keras.Sequential([tf.keras.Input((32, 32, 3), batch_size=1),
        tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
        tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(10)])
    open(sys.argv[1] + "/model.tflite", "wb").write(tf.lite.TFLiteConverter.from_keras_model(m).convert())
""")


def _run(code: str, out: Path) -> None:
    env = dict(os.environ, FLAGS_enable_pir_api="0", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"fixture step failed ({proc.returncode}): {proc.stderr[-2000:]}")


def _manifest(model: str, fmt: str, target: str, path: Path, layout: str = "NCHW", status: str = "ok") -> Artifact:
    shape = [1, 32, 32, 3] if layout == "NHWC" else list(SHAPE)
    m = {"schema": "edgekit.manifest/1", "model": model, "task": "classification", "format": fmt,
         "target": target, "precision": "fp32", "file": path.name,
         "bytes": path.stat().st_size if path.exists() else 0,
         "sha256": sha256_file(path) if path.exists() else None,
         "inputs": [{"name": "x", "shape": shape, "dtype": "float32", "layout": layout}],
         "outputs": [{"name": "out", "shape": [1, 10], "dtype": "float32"}],
         "parity": {"status": "not_run"}, "status": status, "tools": {"test": "fixture"}}
    art = Artifact(path, m)
    if path.exists():
        art.save()
    return art


def make_tiny_artifacts(out: Path, model: str = "TinyNet") -> dict[str, Artifact]:
    """backend name -> Artifact (paddle, onnxruntime, tflite, paddlelite) for a tiny net, built for real."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "model.onnx").exists():
        _run(_PADDLE, out)
    if not (out / "model_x86.nb").exists():
        _run(_OPT, out)
    if not (out / "model.tflite").exists():
        _run(_TFLITE, out)
    return {
        "paddle": _manifest(model, "paddle", "cpu", out / "model.pdmodel"),
        "onnxruntime": _manifest(model, "onnx", "cpu", out / "model.onnx"),
        "paddlelite": _manifest(model, "paddlelite", "x86", out / "model_x86.nb"),
        "tflite": _manifest(model, "tflite", "cpu", out / "model.tflite", layout="NHWC"),
    }



class TinyProvider:
    """An artifact provider (edge_kit.bench.artifacts) that hands out the real tiny artifacts for every
    model instead of converting it; a model in `broken` gets its reason string (a failed conversion)."""

    def __init__(self, tiny: dict[str, Artifact]):
        self.by_format = {a.format: a for a in tiny.values()}
        self.broken: dict[str, str] = {}

    def __call__(self, model, wants):
        if model in self.broken:
            return {w: self.broken[model] for w in wants}
        return {w: self.by_format[w.format] for w in wants}


def bench_cli(provider, argv: list[str]) -> int:
    """`edgekit bench ARGV` as edge_kit.cli.main runs it, with cells' artifacts from `provider`."""
    from edge_kit.cli import build_parser

    args = build_parser().parse_args(["bench", *argv])
    return args.func(args, provider=provider)
