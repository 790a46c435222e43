"""Paddle Inference on a Paddle program (.pdmodel + .pdiparams, or a PIR .json): the reference every
artifact is compared with, and the `paddle` bench backend.

options:
  mkldnn: True enables oneDNN, False disables it, absent leaves Paddle's default. The benchmark turns it
          off unless asked (oneDNN changes kernels and the numbers); the reference keeps the default
          except on PIR programs, where Paddle 3.3's oneDNN executor rejects PIR array<double> attributes
          (nearest_interp's scale: "ConvertPirAttribute2RuntimeAttribute not support").
  legacy_executor: set FLAGS_enable_pir_api=0 before Paddle is imported (the benchmark's legacy .pdmodel).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge_kit.runtimes import HostRuntime, TensorSpec
from edge_kit.runtimes.tensors import Inputs, match


def params_of(program: Path) -> Path:
    return program.with_suffix(".pdiparams")


class PaddleInference(HostRuntime):
    name = "paddle"

    def _load(self) -> None:
        if self.options.get("legacy_executor"):
            os.environ.setdefault("FLAGS_enable_pir_api", "0")
        import paddle.inference as pi

        program = Path(self.model)
        config = pi.Config(str(program), str(self.options.get("params") or params_of(program)))
        config.disable_gpu()
        config.disable_glog_info()
        mkldnn = self.options.get("mkldnn")
        if mkldnn is True:
            config.enable_mkldnn()
        elif mkldnn is False:
            config.disable_mkldnn()
        config.set_cpu_math_library_num_threads(self.threads)
        self.predictor = pi.create_predictor(config)
        self.invoke = self.predictor.run

    def io(self):
        p = self.predictor
        ins = [TensorSpec(n, tuple(p.get_input_handle(n).shape()), "") for n in p.get_input_names()]
        return ins, [TensorSpec(n, (), "") for n in p.get_output_names()]

    def feed(self, inputs: Inputs) -> None:
        names = list(self.predictor.get_input_names())
        for name, x in zip(names, match(names, inputs)):
            self.predictor.get_input_handle(name).copy_from_cpu(np.ascontiguousarray(x))

    def outputs(self) -> dict[str, np.ndarray]:
        return {n: self.predictor.get_output_handle(n).copy_to_cpu() for n in self.predictor.get_output_names()}

    def close(self) -> None:
        super().close()
        self.predictor = None
