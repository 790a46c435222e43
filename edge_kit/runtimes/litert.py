"""LiteRT (ai_edge_litert) Interpreter on a .tflite file."""
from __future__ import annotations

import numpy as np

from edge_kit.runtimes import HostRuntime, TensorSpec
from edge_kit.runtimes.native_log import drop_native_lines
from edge_kit.runtimes.tensors import Inputs, dequantize, fit, match, quantize


XNNPACK_INFO = "INFO: Created TensorFlow Lite XNNPACK delegate"


class LiteRT(HostRuntime):
    name = "tflite"

    def _load(self) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with drop_native_lines(XNNPACK_INFO):
            self.interp = Interpreter(model_path=str(self.model), num_threads=self.threads)
            self.interp.allocate_tensors()
        self._ins, self._outs = self.interp.get_input_details(), self.interp.get_output_details()
        self.invoke = self.interp.invoke

    def io(self):
        spec = lambda d: TensorSpec(d["name"], tuple(int(x) for x in d["shape"]), np.dtype(d["dtype"]).name)
        return [spec(d) for d in self._ins], [spec(d) for d in self._outs]

    def feed(self, inputs: Inputs) -> None:
        for d, x in zip(self._ins, match([d["name"] for d in self._ins], inputs)):
            self.interp.set_tensor(d["index"], fit(quantize(x, d), d["shape"], d["dtype"]))

    def outputs(self) -> dict[str, np.ndarray]:
        return {d["name"]: dequantize(self.interp.get_tensor(d["index"]).copy(), d) for d in self._outs}

    def close(self) -> None:
        super().close()
        self.interp = None
