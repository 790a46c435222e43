"""LiteRT (ai_edge_litert) Interpreter on a .tflite file."""
from __future__ import annotations

from edge_kit.bench.runtimes import Runner


class LiteRTRunner(Runner):
    backend = "tflite"
    package = "ai-edge-litert"

    def _load(self) -> None:
        from edge_kit.sessions import LiteRTSession

        self.session = LiteRTSession(self.artifact.path, self.threads)
        self.session.feed(self.inputs)
        self._invoke = self.session.invoke

    def close(self) -> None:
        super().close()
        self.session = None
