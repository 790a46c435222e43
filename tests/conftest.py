"""Shared fixtures. Every test session converts into its own artifact cache, so tests never depend on
(or pollute) the user's ~/.cache/edgekit; within a session, conversions are shared between tests."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    old = os.environ.get("EDGEKIT_CACHE")
    os.environ["EDGEKIT_CACHE"] = os.environ.get("EDGEKIT_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("EDGEKIT_CACHE", None)
    else:
        os.environ["EDGEKIT_CACHE"] = old


TINY_NET = textwrap.dedent('''
    import os, sys
    os.environ["FLAGS_enable_pir_api"] = "0"
    import paddle
    import paddle.nn.functional as F

    class Tiny(paddle.nn.Layer):
        """The op mix that trips Paddle-Lite 2.13 on current Paddle: relu6, hard_swish, hard_sigmoid (SE),
        a biased conv, flatten_contiguous_range."""
        def __init__(self):
            super().__init__()
            self.c1 = paddle.nn.Conv2D(3, 16, 3, 2, 1, bias_attr=False)
            self.bn = paddle.nn.BatchNorm2D(16)
            self.dw = paddle.nn.Conv2D(16, 16, 3, 1, 1, groups=16)
            self.se = paddle.nn.Conv2D(16, 16, 1)
            self.fc = paddle.nn.Linear(16, 10)
        def forward(self, x):
            x = F.hardswish(self.bn(self.c1(x)))
            x = F.relu6(self.dw(x))
            x = x * F.hardsigmoid(self.se(F.adaptive_avg_pool2d(x, 1)), slope=0.2, offset=0.5)
            return self.fc(paddle.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    paddle.seed(3)
    net = Tiny()
    net.eval()
    paddle.jit.save(net, os.path.join(sys.argv[1], "inference"),
                    input_spec=[paddle.static.InputSpec([1, 3, 64, 64], "float32", "image")])
''')

MODEL_YML = textwrap.dedent('''
    Model: TinyNet
    _Attributes:
      model_type: classifier
      labels: [a, b, c, d, e, f, g, h, i, j]
    Transforms:
    - ResizeByShort: {short_size: 72}
    - CenterCrop: {crop_size: 64}
    - Normalize: {mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}
''')


@pytest.fixture(scope="session")
def tiny_paddle_model(tmp_path_factory) -> Path:
    """A user's exported Paddle inference model (legacy .pdmodel) with a PaddleX model.yml beside it."""
    out = tmp_path_factory.mktemp("tiny_paddle")
    script = tmp_path_factory.mktemp("scripts") / "export_tiny.py"  # dy2static reads the source file
    script.write_text(TINY_NET)
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    (out / "model.yml").write_text(MODEL_YML)
    return out


@pytest.fixture(scope="session")
def tiny_tflite(tiny_paddle_model) -> Path:
    """tiny_paddle_model converted to a verified fp32 .tflite (manifest beside it), for benchmarks on
    simulated phones. Modules that need some other tiny .tflite define their own fixture of this name."""
    from edge_kit.convert import convert

    art = next(a for a in convert(paddle_model=str(tiny_paddle_model), to=("tflite",), log=lambda m: None)
               if a.format == "tflite" and a.precision == "fp32")
    assert art.ok
    return art.path


def read_results(results: Path) -> list[dict]:
    """The records of results_dir/results.jsonl, in order ([] before the first one is written)."""
    import json

    path = results / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def run_cli(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `edgekit` as a user would, in a child process."""
    return subprocess.run([sys.executable, "-m", "edge_kit.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)


TINY_TFLITE = textwrap.dedent('''
    import sys
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32)])
    def two_layer(x):
        w1 = tf.constant([[0.5, -0.25, 1.0, 0.1]] * 8)
        w2 = tf.constant([[1.0], [-1.0], [0.5], [0.2]])
        return tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)

    conv = tf.lite.TFLiteConverter.from_concrete_functions([two_layer.get_concrete_function()], two_layer)
    open(sys.argv[1], "wb").write(conv.convert())
''')


def make_tiny_tflite(path: Path) -> Path:
    """A two-layer [1,8] -> [1,1] TFLite file, made in a child process: TensorFlow and Paddle loaded
    into one process abort it (seen when the whole suite ran in one pytest process)."""
    script = path.with_name(path.name + ".make.py")
    script.write_text(TINY_TFLITE)
    proc = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    if proc.returncode or not path.exists():
        raise RuntimeError(f"making {path.name} failed: {proc.stderr[-1500:]}")
    script.unlink()
    return path

