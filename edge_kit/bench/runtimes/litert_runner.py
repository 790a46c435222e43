"""LiteRT (ai_edge_litert) Interpreter on a .tflite file."""
from __future__ import annotations

from edge_kit.bench.runtimes import Runner


class LiteRTRunner(Runner):
    backend = "tflite"
    package = "ai-edge-litert"

    def _load(self) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=str(self.artifact.path), num_threads=self.threads)
        self.interp.allocate_tensors()
        details = self.interp.get_input_details()
        by_name = {d["name"]: d for d in details}
        for i, (name, value) in enumerate(self.inputs.items()):
            # onnx2tf may rename inputs ("x" -> "serving_default_x:0"); fall back to position
            d = by_name.get(name) or next((v for k, v in by_name.items() if name in k), details[i])
            self.interp.set_tensor(d["index"], value.astype(d["dtype"]).reshape(d["shape"]))
        self._invoke = self.interp.invoke

    def close(self) -> None:
        super().close()
        self.interp = None
