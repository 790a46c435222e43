"""onnxruntime InferenceSession (CPU provider) on an .onnx file."""
from __future__ import annotations

import functools

from edge_kit.bench.runtimes import Runner


class OnnxRuntimeRunner(Runner):
    backend = "onnxruntime"
    package = "onnxruntime"

    def _load(self) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1  # one image at a time: parallelism comes from intra-op threads
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.sess = ort.InferenceSession(str(self.artifact.path), so, providers=["CPUExecutionProvider"])
        names = [i.name for i in self.sess.get_inputs()]
        feed = {n: v for n, v in zip(names, self.inputs.values())}
        feed.update({k: v for k, v in self.inputs.items() if k in names})
        self._invoke = functools.partial(self.sess.run, None, feed)

    def close(self) -> None:
        super().close()
        self.sess = None
