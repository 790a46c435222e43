"""Paddle-Lite light predictor (MobileConfig) on the x86 .nb.

Threads: paddlelite 2.13rc0's Python MobileConfig has no set_threads, and calling omp_set_num_threads on
the wheel's libiomp5 changes nothing (measured: a "2-thread" predictor starts no extra OS thread and
uses the same CPU time per wall second as 1 thread). So only 1-thread cells exist for this backend on
the host (HostDevice.supports); a phone's benchmark_bin takes --threads itself.
"""
from __future__ import annotations

from edge_kit.bench.runtimes import BackendError, Runner


class PaddleLiteRunner(Runner):
    backend = "paddlelite"
    package = "paddlelite"

    def _load(self) -> None:
        from edge_kit.sessions import PaddleLiteSession

        if self.threads != 1:
            raise BackendError("paddlelite: the Python light predictor cannot set a thread count; only "
                               "--threads 1 is measured on the host")
        if self.artifact.manifest.get("target") not in (None, "x86"):
            raise BackendError(f"paddlelite on the host needs the x86 .nb, got target "
                               f"{self.artifact.manifest.get('target')!r} ({self.artifact.path})")
        self.session = PaddleLiteSession(self.artifact.path)
        self.session.feed(self.inputs)
        self._invoke = self.session.invoke

    def close(self) -> None:
        super().close()
        self.session = None
