"""onnxruntime (CPU provider) on an ORT-format file (.ort, converters.ort_format): the session ONNX Runtime
Mobile opens on a phone, opened here the same way. Everything but the file format is OnnxRuntime's.
The file is made for ARM CPUs (converters.ort_format): timed here it runs without onnxruntime's x86-only
NCHWc layout, so it is slower than the .onnx on this machine; that is not a phone's number."""
from __future__ import annotations

from edge_kit.runtimes.onnxruntime import OnnxRuntime


class OrtFormat(OnnxRuntime):
    name = "ort"
    model_format = "ORT"  # said, not guessed from the suffix: in-memory bytes and renamed files load too
