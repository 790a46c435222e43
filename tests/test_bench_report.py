"""Report tables: seed figures beside measured ones, "not measured", simulated never in an SD855 column."""
import pytest

from edge_kit.bench.cell import Cell, Measurement
from edge_kit.bench.store import ResultStore, make_record
from edge_kit.errors import EdgekitError
from edge_kit.report import render_report
from edge_kit.report.tables import NOT_MEASURED, build_tables


def _rec(model, device, backend="paddlelite", median=1.0, simulated=False, status="ok", threads=1, noisy=False):
    cell = Cell(model, backend, "fp32", threads, device)
    m = Measurement(count=10, min_ms=median, median_ms=median, mean_ms=median, std_ms=0.0)
    return make_record(cell, status=status, device_info={"cpu_model": f"cpu of {device}", "cores": 8},
                       simulated=simulated, measurement=m if status == "ok" else None,
                       reason="" if status == "ok" else "Opt aborted", flags={"noisy": noisy})


RECORDS = [
    _rec("MobileNetV3_small_ssld", "sd855", median=7.25),
    _rec("MobileNetV3_small_ssld", "sd855-sim", median=111.5, simulated=True),
    _rec("ShuffleNetV2", "sd855", median=222.5, simulated=True),  # mislabelled device: must stay simulated
    _rec("MobileNetV3_small_ssld", "host", backend="tflite", median=2.25, threads=2, noisy=True),
    _rec("MobileNetV2", "host", backend="tflite", status="failed", threads=2),
]


def _table(section="classification"):
    return next(t for t in build_tables(RECORDS) if t.section == section)


def _col(table, name):
    i = table.columns.index(name)
    return {row[0]: row[i] for row in table.rows}


def test_seed_columns_sit_beside_measured_ones_in_seed_order():
    t = _table()
    assert [r[0] for r in t.rows][:4] == ["MobileNetV3_small_ssld", "ShuffleNetV2", "MobileNetV3_large_ssld",
                                          "MobileNetV2"]
    seed_i = t.columns.index("SD855 ms (seed)")
    assert t.columns[seed_i + 1] == "SD855 ms (measured), Paddle-Lite fp32, 1 thread"
    assert _col(t, "SD855 ms (seed)")["MobileNetV3_small_ssld"] == "6.5463"
    assert _col(t, "SD855 ms (measured), Paddle-Lite fp32, 1 thread")["MobileNetV3_small_ssld"] == "7.25"
    assert t.columns[0] == "Model" and t.columns[-1] == "Top1 % (seed)"


def test_unmeasured_cells_say_so_and_never_zero():
    t = _table()
    host = _col(t, "host ms, LiteRT fp32, 2 threads")
    assert host["ShuffleNetV2"] == NOT_MEASURED and host["Xception65"] == NOT_MEASURED
    assert host["MobileNetV3_small_ssld"] == "2.25 (noisy)"
    assert host["MobileNetV2"] == "failed" and any("Opt aborted" in n for n in t.notes)
    assert not any(v in ("0", "0.0", "0.00", "0.000") for row in t.rows for v in row)
    # nothing measured for detection: the seed's own columns only, no invented measured ones
    assert _table("detection").columns == ["Model", "Storage MB (seed)", "GPU ms bs=1 (seed)", "Box mmAP (seed)"]


def test_simulated_numbers_never_land_in_an_sd855_column():
    t = _table()
    for col in t.columns:
        values = set(_col(t, col).values())
        if col.startswith("SD855"):
            assert "111.50" not in values and "222.50" not in values, col
    sim = [c for c in t.columns if "(simulated)" in c]
    assert sim == ["sd855-sim ms (simulated), Paddle-Lite fp32, 1 thread"]
    assert _col(t, sim[0])["MobileNetV3_small_ssld"] == "111.50"
    assert _col(t, sim[0])["ShuffleNetV2"] == "222.50"


def test_sections_without_sd855_seed_have_no_phone_column():
    det = _table("detection")
    assert "SD855 ms (seed)" not in det.columns and "GPU ms bs=1 (seed)" in det.columns
    ins = _table("instance_segmentation")
    assert _col(ins, "Box mmAP (seed)")["MaskRCNN-ResNet50-FPN"] == "38.7"
    assert _col(ins, "Seg mmAP (seed)")["MaskRCNN-ResNet50-FPN"] == "34.7"


def test_render_writes_md_csv_png(tmp_path):
    store = ResultStore(tmp_path)
    for r in RECORDS:
        store.append(r)
    out = render_report(tmp_path, out_dir=tmp_path / "rep")
    names = sorted(p.name for p in out)
    assert names == ["report.md", "report.png", "report_classification.csv", "report_detection.csv",
                     "report_instance_segmentation.csv", "report_semantic_segmentation.csv"]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| SD855 ms (seed) | SD855 ms (measured), Paddle-Lite fp32, 1 thread |" in md
    assert "SIMULATED" in md and "## Semantic segmentation" in md
    csv_text = (tmp_path / "rep" / "report_classification.csv").read_text()
    assert "not measured" in csv_text.splitlines()[3]
    assert (tmp_path / "rep" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_bad_input(tmp_path):
    with pytest.raises(EdgekitError, match="run `edgekit bench` first"):
        render_report(tmp_path / "empty")
    ResultStore(tmp_path).append(RECORDS[0])
    with pytest.raises(EdgekitError, match="unknown report format"):
        render_report(tmp_path, formats=("pdf",))
