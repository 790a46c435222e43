"""Typed manifests and bench records: every committed record and every kind of manifest edgekit has
written loads, reads as attributes and is written back with exactly the keys it had."""
import json
from pathlib import Path

import pytest

from edge_kit.bench.record import BenchRecord
from edge_kit.bench.store import ResultStore, make_record
from edge_kit.bench.cell import Cell, Measurement
from edge_kit.errors import ModelFileError
from edge_kit.manifest import Artifact, Manifest, manifest_path

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = sorted((ROOT / "bench_results").rglob("results.jsonl"))
# one manifest of every kind edgekit's converters wrote (format x target x precision x status, a user's
# model with `accepts`, an arm64 check, a failed stage with no file, TensorRT ONNX), copied from real runs
MANIFESTS = sorted((ROOT / "tests" / "data" / "manifests").glob("*.manifest.json"))


def test_committed_results_exist():
    assert ROOT / "bench_results" / "results.jsonl" in COMMITTED and len(MANIFESTS) >= 20


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_record_loads_and_round_trips(path):
    store = ResultStore(path.parent, path.name)
    recs = list(store.records())
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert store.skipped_lines == [] and len(recs) == len(lines) > 0
    for rec, line in zip(recs, lines):
        assert isinstance(rec, BenchRecord)
        assert rec.to_dict() == line and list(rec.to_dict()) == list(line)   # same keys, values, order
        assert rec.key == line["key"] and rec.status == line["status"] and rec.threads == line["threads"]
        assert rec.ok == (line["status"] == "ok")
        if rec.ok:
            assert rec.median_ms == line["measurement"]["median_ms"] > 0
    # the store's view (resume, report) sees the same cells
    assert set(store.latest()) and all(isinstance(r, BenchRecord) for r in store.latest().values())


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_kind_of_manifest_loads_and_round_trips(path, tmp_path):
    data = json.loads(path.read_text())
    m = Manifest.from_dict(data)
    assert m.to_dict() == data and list(m.to_dict()) == list(data)   # same keys, same order
    assert (m.model, m.format, m.target, m.precision, m.status) == tuple(
        data.get(k) for k in ("model", "format", "target", "precision", "status"))
    assert m.parity_status == data["parity"]["status"]
    # format-specific keys stay, untyped, in extra; reading them the old way still works
    for k in set(data) - set(Manifest.names()):
        assert m.extra[k] == data[k] == m[k]
    # saved and loaded through Artifact: the same JSON on disk
    art = Artifact(tmp_path / "a.bin", data)
    art.save()
    assert json.loads(manifest_path(art.path).read_text()) == data
    assert Artifact.load(art.path).manifest == m


def test_written_keys_are_exactly_those_given():
    """A field not given is not written (not even as null); an explicit null or an ALWAYS key is."""
    m = Manifest(model="x", format="onnx", status="ok")
    assert m.to_dict() == {"schema": "edgekit.manifest/1", "model": "x", "format": "onnx", "status": "ok"}
    m["reason"] = None                 # old-style code setting a null: written, as the dict did
    m["ops"] = {"Conv": 2}             # a key the type does not declare: kept in extra
    m.parity = {"status": "passed"}
    assert m.to_dict()["reason"] is None and m.to_dict()["ops"] == {"Conv": 2} and m.parity_status == "passed"
    assert "file" not in m and m.get("file", "absent") == "absent" and m.file is None
    with pytest.raises(KeyError):
        m["file"]

    cell = Cell("M", "tflite", "fp32", 1, "host")
    failed = make_record(cell, status="failed", device_info={}, simulated=False, reason="boom")
    assert failed.to_dict()["measurement"] is None and failed.to_dict()["artifact"] is None   # ALWAYS keys
    ok = make_record(cell, status="ok", device_info={}, simulated=False,
                     measurement=Measurement(count=1, min_ms=1.0, median_ms=1.0, mean_ms=1.0, std_ms=0.0))
    assert ok.median_ms == 1.0 and "provenance" not in ok.to_dict()


def test_gpu_failed_record_keeps_its_layout():
    from edge_kit.gpu.records import failed_gpu_record

    rec = failed_gpu_record("M", "fp16", {"gpu": "Tesla T4"}, "10.3", "no engine")
    d = rec.to_dict()
    assert not {"warmup", "repeats", "min_secs"} & set(d)      # nothing ran: no run parameters
    assert d["measurement"] is None and d["status"] == "failed" and d["provenance"]["gpu"] == "Tesla T4"


def test_a_manifest_of_an_unknown_layout_is_one_clear_error(tmp_path):
    f = tmp_path / "m.onnx"
    f.write_bytes(b"x")
    manifest_path(f).write_text(json.dumps({"schema": "edgekit.manifest/9", "model": "m"}))
    with pytest.raises(ModelFileError, match="edgekit.manifest/9"):
        Artifact.load(f)
    manifest_path(f).write_text("[1, 2]")
    with pytest.raises(ModelFileError, match="JSON object"):
        Artifact.load(f)


def test_a_record_of_an_unknown_layout_is_skipped_and_named(tmp_path):
    (tmp_path / "results.jsonl").write_text(json.dumps({"schema": "edgekit.bench/9", "key": "k"}) + "\n")
    store = ResultStore(tmp_path)
    assert list(store.records(warn=False)) == [] and "edgekit.bench/9" in store.skipped_lines[0][1]


def test_old_style_deletion():
    m = Manifest.from_dict({"schema": "edgekit.manifest/1", "parity_arm64": {"status": "passed"}, "ops": {}})
    del m["parity_arm64"]
    assert m.pop("ops") == {} and m.pop("ops", 1) == 1 and m.to_dict() == {"schema": "edgekit.manifest/1"}
    with pytest.raises(KeyError):
        del m["parity_arm64"]


def test_accuracy_records_reach_the_report(tmp_path, capsys):
    """accuracy.jsonl is not a store of cells: its records (no "key") were skipped as malformed before."""
    from edge_kit.report.accuracy import load_accuracy

    def acc(top1):
        return {"schema": "edgekit.accuracy/1", "model": "MobileNetV2", "task": "classification", "format": "tflite",
                "precision": "fp32", "dataset": {"path": "/data/val"}, "metrics": {"top1": top1}}

    (tmp_path / "accuracy.jsonl").write_text(json.dumps(acc(0.5)) + "\n" + json.dumps(acc(0.7)) + "\n{broken\n")
    [rec] = load_accuracy(tmp_path)
    assert rec["metrics"]["top1"] == 0.7                       # the later result for the same cell
    assert "accuracy.jsonl:3: not valid JSON" in capsys.readouterr().err
