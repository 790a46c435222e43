"""int8 TFLite from a user's export with dynamic dims and a padded max-pool stem (ReLU -> MaxPool k3 s2 p1,
as ShuffleNetV2/ResNet stems have). Both used to give a broken file: the dynamic H/W became a [1, 1, 1, 3]
input (PaddleOCR's direction classifier: "Cannot set tensor: Dimension mismatch"), and onnx2tf's -FLT_MAX
pad gave the stem an int8 scale of ~1e36 (a constant output; LiteRT's XNNPACK refused the file)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

NET = textwrap.dedent('''
    import os, sys
    os.environ["FLAGS_enable_pir_api"] = "0"
    import paddle
    import paddle.nn.functional as F

    class PoolStem(paddle.nn.Layer):
        def __init__(self):
            super().__init__()
            self.c1 = paddle.nn.Conv2D(3, 8, 3, 2, 1, bias_attr=False)
            self.bn = paddle.nn.BatchNorm2D(8)
            self.c2 = paddle.nn.Conv2D(8, 16, 1)
            self.fc = paddle.nn.Linear(16, 4)
        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.c1(x))), 3, 2, 1)
            x = F.relu(self.c2(x))
            return F.softmax(self.fc(paddle.flatten(F.adaptive_avg_pool2d(x, 1), 1)))

    paddle.seed(5)
    net = PoolStem()
    net.eval()
    paddle.jit.save(net, os.path.join(sys.argv[1], "inference"),
                    input_spec=[paddle.static.InputSpec([-1, 3, -1, -1], "float32", "x")])
''')


@pytest.mark.slow
def test_dynamic_dims_and_padded_maxpool_give_a_working_int8_tflite(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from edge_kit.convert import convert
    from edge_kit.images import natural_images, preprocess
    from edge_kit.zoo.registry import Preprocess

    model = tmp_path / "model"
    model.mkdir()
    (tmp_path / "net.py").write_text(NET)  # dy2static reads the source file
    subprocess.run([sys.executable, str(tmp_path / "net.py"), str(model)], check=True, capture_output=True)
    pre = Preprocess(resize=(48, 64), resize_short=None, mean=(0.5,) * 3, std=(0.5,) * 3)
    np.save(tmp_path / "calib.npy", preprocess(natural_images(16, 48, 64, seed=9), pre))
    arts = convert(paddle_model=str(model), to=("tflite",), precisions=("int8",), calib=str(tmp_path / "calib.npy"),
                   options={"input_shape": ["x:1,3,48,64"], "task": "classification", "mean": [0.5] * 3,
                            "std": [0.5] * 3}, log=lambda m: None)
    tfl = next(a for a in arts if a.format == "tflite" and a.precision == "int8")
    m = tfl.manifest
    assert m["onnx_passes"]["input_shape_fixed"] == "x:1,3,48,64"
    assert m["onnx_passes"]["maxpool_pads_explicit"] == 1
    assert m["inputs"][0]["shape"] == [1, 48, 64, 3]
    assert tfl.ok and m["parity"]["status"] == "passed", m["parity"]
    assert min(o["cosine"] for o in m["parity"]["metrics"]["outputs"]) > 0.95
    interp = Interpreter(model_path=str(tfl.path))  # LiteRT's default XNNPACK delegate takes the file
    interp.allocate_tensors()
    scales = [float(s) for t in interp.get_tensor_details()
              for s in t.get("quantization_parameters", {}).get("scales", [])]
    assert scales and max(scales) < 1e3  # no activation range blown up by a padding constant
    assert "PADV2" not in m["ops"]
