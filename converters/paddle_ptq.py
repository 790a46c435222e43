"""Paddle's own post-training quantization of a legacy inference program (for a Paddle-Lite int8 .nb).

`paddle.static.quantization.PostTrainingQuantization` works on Paddle 3.3 only under the old-IR guard
(the legacy ProgramDesc path); paddleslim 2.6 does not import cleanly on Paddle 3.3, so it is not used.
Weights channel-wise abs-max, activations by the chosen algorithm over the calibration inputs. The
quantized program (fake-quant ops = Paddle's simulated quantization) is what Opt turns into int8 ARM
kernels, and what the parity check runs with Paddle Inference.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

ALGO = "avg"  # mean of per-batch abs-max: robust on small calibration sets (KL needs many samples)


def child_ptq(program: str, params: str, calib_npy: str, out_dir: str) -> dict:
    import paddle
    from paddle.static.quantization import PostTrainingQuantization

    paddle.enable_static()
    calib = np.load(calib_npy).astype(np.float32)
    with paddle.pir_utils.OldIrGuard():
        exe = paddle.static.Executor(paddle.CPUPlace())
        # Feed names come from the program; detection deploy graphs take im_shape/scale_factor too.
        [prog, feeds, _] = paddle.static.load_inference_model(str(Path(program).with_suffix("")), exe)
        h, w = calib.shape[2:]

        def loader():
            for i in range(len(calib)):
                feed = {}
                for name in feeds:
                    if name == "im_shape":
                        feed[name] = np.array([[h, w]], np.float32)
                    elif name == "scale_factor":
                        feed[name] = np.ones((1, 2), np.float32)
                    else:
                        feed[name] = calib[i:i + 1]
                yield feed

        ptq = PostTrainingQuantization(executor=exe, model_dir=str(Path(program).parent),
                                       model_filename=Path(program).name, params_filename=Path(params).name,
                                       data_loader=loader, batch_nums=len(calib), algo=ALGO,
                                       weight_quantize_type="channel_wise_abs_max", onnx_format=False)
        ptq.quantize()
        ptq.save_quantized_model(out_dir, model_filename="model.pdmodel", params_filename="model.pdiparams")
    if not (Path(out_dir) / "model.pdmodel").exists():
        raise RuntimeError("PostTrainingQuantization wrote no model.pdmodel")
    return {"algo": ALGO, "weight_quantize_type": "channel_wise_abs_max", "format": "fake-quant ops (onnx_format=False)",
            "calibration_inputs": int(len(calib)), "paddle": paddle.__version__}
