"""onnxruntime (CPU provider) on an ORT-format file (.ort, converters.ort_format): the session ONNX Runtime
Mobile opens on a phone, opened here the same way. Everything but the file format is OnnxRuntime's."""
from __future__ import annotations

from edge_kit.runtimes.onnxruntime import OnnxRuntime


class OrtFormat(OnnxRuntime):
    name = "ort"
    model_format = "ORT"  # said, not guessed from the suffix: in-memory bytes and renamed files load too
