"""Paddle Inference on the reference program (.pdmodel + .pdiparams)."""
from __future__ import annotations

import os
from pathlib import Path

from edge_kit.bench.runtimes import Runner


class PaddleInferenceRunner(Runner):
    backend = "paddle"
    package = "paddlepaddle"

    def _load(self) -> None:
        os.environ.setdefault("FLAGS_enable_pir_api", "0")  # the reference is a legacy .pdmodel
        import paddle.inference as pi

        model = Path(self.artifact.path)
        config = pi.Config(str(model), str(model.with_suffix(".pdiparams")))
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(self.threads)
        if self.options.get("mkldnn"):  # off by default: oneDNN changes kernels and the numbers
            config.enable_mkldnn()
        else:
            config.disable_mkldnn()
        config.disable_glog_info()
        self.predictor = pi.create_predictor(config)
        for name, value in zip(self.predictor.get_input_names(), self.inputs.values()):
            self.predictor.get_input_handle(name).copy_from_cpu(self.inputs.get(name, value))
        self._invoke = self.predictor.run

    def close(self) -> None:
        super().close()
        self.predictor = None
