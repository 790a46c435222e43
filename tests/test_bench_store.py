"""Results store: append, resume keys, supersede, malformed lines, unwritable directory."""
import json

import pytest

from edge_kit.bench.cell import Cell, Measurement
from edge_kit.bench.store import SCHEMA, ResultStore, make_record
from edge_kit.errors import OutputDirError


def _rec(model="MobileNetV3_small_ssld", backend="tflite", status="ok", median=1.5, threads=1):
    cell = Cell(model, backend, "fp32", threads, "host")
    m = Measurement(count=3, min_ms=1.0, median_ms=median, mean_ms=median, std_ms=0.1) if status == "ok" else None
    return make_record(cell, status=status, device_info={"name": "host"}, simulated=False, measurement=m,
                       reason="" if status == "ok" else "conversion failed: boom")


def test_append_and_read_back(tmp_path):
    store = ResultStore(tmp_path / "res")
    store.append(_rec())
    store.append(_rec(backend="onnxruntime", status="failed"))
    recs = list(store.records())
    assert [r["backend"] for r in recs] == ["tflite", "onnxruntime"]
    assert recs[0]["schema"] == SCHEMA and recs[0]["measurement"]["median_ms"] == 1.5
    assert recs[0]["measurement"]["cv"] == pytest.approx(0.1 / 1.5)
    assert recs[1]["reason"] == "conversion failed: boom" and recs[1]["measurement"] is None
    # one complete line per record
    assert store.path.read_text().count("\n") == 2


def test_done_keys_hold_only_successful_cells_and_later_records_win(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_rec(backend="tflite"))
    store.append(_rec(backend="paddle", status="failed"))
    assert store.done_keys() == {"host|MobileNetV3_small_ssld|tflite|fp32|t1"}
    store.append(_rec(backend="tflite", median=9.0))  # a forced re-run
    assert store.latest()["host|MobileNetV3_small_ssld|tflite|fp32|t1"]["measurement"]["median_ms"] == 9.0
    store.append(_rec(backend="tflite", status="failed"))
    assert store.done_keys() == set()


def test_malformed_and_partial_lines_are_reported_and_skipped(tmp_path, capsys):
    store = ResultStore(tmp_path)
    store.append(_rec(threads=1))
    with open(store.path, "a") as f:
        f.write("this is not json\n")
        f.write(json.dumps({"schema": "other/9", "key": "x"}) + "\n")
        f.write(json.dumps(_rec(threads=2).to_dict())[:40])  # a crash mid-write: no newline
    store.append(_rec(threads=4))  # must start on a fresh line, not glue onto the partial one
    keys = [r["threads"] for r in store.records()]
    assert keys == [1, 4]
    assert [no for no, _ in store.skipped_lines] == [2, 3, 4]
    err = capsys.readouterr().err
    assert "results.jsonl:2: not valid JSON" in err and "unknown schema" in err


def test_unwritable_results_dir_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where a directory should be: fails even for root
    store = ResultStore(blocker / "results")
    with pytest.raises(OutputDirError, match="cannot write benchmark results"):
        store.check_writable()
    with pytest.raises(OutputDirError):
        store.append(_rec())
