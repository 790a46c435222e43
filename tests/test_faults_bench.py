"""Issue 12, bench under faults: a runtime that aborts fails its cell and the run goes on; an artifact
whose bytes no longer match its manifest is refused; a bench with failed cells exits non-zero."""
from __future__ import annotations

import json

import pytest

from edge_kit.bench import harness
from edge_kit.bench.host_device import HostDevice
from edge_kit.bench.store import ResultStore
from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact, sha256_file
from test_bench_helpers import make_tiny_artifacts

M1, M2 = "MobileNetV3_small_ssld", "ShuffleNetV2"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_artifacts(tmp_path_factory.mktemp("tiny"))


def _truncated_nb(tiny, tmp_path) -> Artifact:
    """A truncated x86 .nb whose manifest was rewritten to match it (as a damaged cache entry could be)."""
    bad = tmp_path / "bad_x86.nb"
    bad.write_bytes(tiny["paddlelite"].path.read_bytes()[:2000])
    m = dict(tiny["paddlelite"].manifest, file=bad.name, bytes=2000, sha256=sha256_file(bad))
    art = Artifact(bad, m)
    art.save()
    return art


def test_runtime_abort_fails_its_cell_and_the_rest_still_run(tmp_path, tiny, monkeypatch):
    bad = _truncated_nb(tiny, tmp_path)

    def artifacts_for(model, backends, precisions, device):
        return {(b, p): (bad if (model, b) == (M1, "paddlelite") else tiny[b]) for b in backends for p in precisions}

    monkeypatch.setattr(harness, "_artifacts_for", artifacts_for)
    s = harness.run_bench([M1, M2], HostDevice(), backends=["paddlelite", "onnxruntime"], threads=(1,), warmup=1,
                          repeats=5, results_dir=tmp_path / "res", progress=False)
    failed = dict(s.failed)
    assert list(failed) == [f"host|{M1}|paddlelite|fp32|t1"], s.failed
    assert "crashed" in failed[f"host|{M1}|paddlelite|fp32|t1"] or "cannot load" in failed[f"host|{M1}|paddlelite|fp32|t1"]
    assert sorted(s.measured) == sorted([f"host|{M1}|onnxruntime|fp32|t1", f"host|{M2}|paddlelite|fp32|t1",
                                         f"host|{M2}|onnxruntime|fp32|t1"])
    assert len(list(ResultStore(tmp_path / "res").records())) == 4


def test_artifact_whose_bytes_changed_is_refused(tmp_path, tiny):
    f = tmp_path / "m.onnx"
    f.write_bytes(tiny["onnxruntime"].path.read_bytes())
    Artifact(f, dict(tiny["onnxruntime"].manifest, file=f.name)).save()
    assert harness.load_artifacts([str(f)], HostDevice())  # intact: accepted
    with open(f, "r+b") as fh:
        fh.truncate(500)
    with pytest.raises(EdgekitError, match="sha256"):
        harness.load_artifacts([str(f)], HostDevice())
