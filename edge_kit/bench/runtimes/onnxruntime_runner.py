"""onnxruntime InferenceSession (CPU provider) on an .onnx file."""
from __future__ import annotations

from edge_kit.bench.runtimes import Runner


class OnnxRuntimeRunner(Runner):
    backend = "onnxruntime"
    package = "onnxruntime"

    def _load(self) -> None:
        from edge_kit.sessions import OnnxRuntimeSession

        self.session = OnnxRuntimeSession(self.artifact.path, self.threads)
        self.session.feed(self.inputs)
        self._invoke = self.session.invoke

    def close(self) -> None:
        super().close()
        self.session = None
