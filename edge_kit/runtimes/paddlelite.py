"""Paddle-Lite light predictor (MobileConfig) on an x86 .nb.

Threads: paddlelite 2.13rc0's Python MobileConfig has no set_threads, and calling omp_set_num_threads on
the wheel's libiomp5 changes nothing (measured: a "2-thread" predictor starts no extra OS thread and
uses the same CPU time per wall second as 1 thread). So the formats table allows 1 thread only here;
a phone's benchmark_bin takes --threads itself.
"""
from __future__ import annotations

import numpy as np

from edge_kit.runtimes import HostRuntime, TensorSpec
from edge_kit.runtimes.tensors import Inputs, match


class PaddleLite(HostRuntime):
    name = "paddlelite"

    def _load(self) -> None:
        from paddlelite.lite import MobileConfig, create_paddle_predictor

        config = MobileConfig()
        config.set_model_from_file(str(self.model))
        self.predictor = create_paddle_predictor(config)
        self.invoke = self.predictor.run

    def io(self):
        # The light predictor knows shapes only once inputs are set: names, with the declared dtype unknown.
        p = self.predictor
        return ([TensorSpec(n, tuple(p.get_input(i).shape()), "") for i, n in enumerate(p.get_input_names())],
                [TensorSpec(n, (), "") for n in p.get_output_names()])

    def feed(self, inputs: Inputs) -> None:
        names = list(self.predictor.get_input_names())
        for i, x in enumerate(match(names, inputs)):
            self.predictor.get_input(i).from_numpy(np.ascontiguousarray(x))

    def outputs(self) -> dict[str, np.ndarray]:
        names = self.predictor.get_output_names()
        return {n: self.predictor.get_output(j).numpy().copy() for j, n in enumerate(names)}

    def close(self) -> None:
        super().close()
        self.predictor = None
