"""trtexec logs of several TensorRT releases -> GPU records -> the report's GPU column.

Fixtures (tests/data/trtexec/README.md): two verbatim trtexec outputs from NVIDIA's own notebooks (8.2.5,
10.3.0) and two composed from the format strings of the 8.6.1 and 11.1 sources.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_kit.cli import main
from edge_kit.gpu.records import gpu_device, import_trtexec_log
from edge_kit.gpu.trtexec_log import TrtexecLogError, decode_banner_version, parse_trtexec_log

DATA = Path(__file__).parent / "data" / "trtexec"
V82 = DATA / "trtexec-8.2.5-nvidia-qat-ptq-notebook.log"
V86 = DATA / "trtexec-8.6.1-composed.log"
V103 = DATA / "trtexec-10.3.0-nvidia-intro-notebook.log"
V111 = DATA / "trtexec-11.1.0-composed.log"


def test_banner_version_encodings():
    assert decode_banner_version("8205") == "8.2.5"
    assert decode_banner_version("8601") == "8.6.1"
    assert decode_banner_version("100300") == "10.3.0"
    assert decode_banner_version("110100") == "11.1.0"


def test_parse_verbatim_10_3():
    run = parse_trtexec_log(V103.read_text())
    assert (run.tensorrt_version, run.banner_version, run.status) == ("10.3.0", "10.3.0", "PASSED")
    assert run.gpu == "NVIDIA RTX A5000" and run.compute_capability == "8.6"
    assert (run.compute_clock_ghz, run.memory_clock_ghz) == (1.695, 8.001)
    assert run.metrics["latency"] == {"min": 1.18591, "max": 1.36273, "mean": 1.20476, "median": 1.2041,
                                      "p90": 1.21265, "p95": 1.21558, "p99": 1.22229}
    assert run.metrics["gpu_compute"]["median"] == 1.14185
    assert run.metrics["d2h"]["p99"] == 0.00817871
    assert (run.throughput_qps, run.walltime_s, run.total_gpu_compute_s) == (873.17, 3.00285, 2.99571)
    assert (run.queries, run.warmup_queries) == (2622, 177)
    assert run.precision_line == "FP32" and run.tf32 is True  # no --noTF32 on that command line
    assert run.data_transfers is True and run.cuda_graph is False
    assert "end_to_end_host" not in run.metrics


def test_parse_verbatim_8_2_has_only_p99_and_end_to_end_line():
    run = parse_trtexec_log(V82.read_text())
    assert run.version == "8.2.5" and run.build is None
    assert set(run.metrics["latency"]) == {"min", "max", "mean", "median", "p99"}
    assert run.metrics["end_to_end_host"]["median"] == 11.5563
    assert run.metrics["gpu_compute"]["mean"] == 6.00728
    assert run.compute_clock_ghz == 1.005  # 8.2 says "Compute Clock Rate", later "Application Compute ..."
    assert run.gpu == "NVIDIA Graphics Device"


def test_parse_composed_8_6_and_11_1():
    r86 = parse_trtexec_log(V86.read_text())
    assert r86.version == "8.6.1" and r86.tf32 is False and r86.gpu == "Tesla T4"
    assert r86.inference_shapes == {"image": [1, 3, 224, 224]}
    r11 = parse_trtexec_log(V111.read_text())
    assert (r11.version, r11.build) == ("11.1.0", "106")
    assert r11.precision_line == "Strongly Typed"
    assert r11.inference_shapes == {"image": [1, 3, 608, 608]}  # 11 spells it "Input inference shape : "
    assert r11.flag("includeDataTransfers") == "" and r11.flag("fp16") is None


def test_parse_without_logger_prefix_gives_the_same_numbers():
    import re

    bare = "\n".join(re.sub(r"^\[[^\]]+\] \[\w\] ?", "", line) for line in V103.read_text().splitlines())
    assert parse_trtexec_log(bare).metrics == parse_trtexec_log(V103.read_text()).metrics


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t.split("=== Performance summary ===")[0], "no '=== Performance summary ==='"),
    (lambda t: t + t, "2 performance summaries"),
    (lambda t: t.replace("&&&& PASSED", "&&&& FAILED"), "FAILED"),
    (lambda t: "\n".join(line for line in t.splitlines() if "GPU Compute Time: min" not in line), "gpu compute"),
    (lambda t: t.replace("median = 1.2041 ms, ", ""), "has no median"),
])
def test_unusable_logs_are_refused(mutate, message):
    with pytest.raises(TrtexecLogError, match=message):
        parse_trtexec_log(mutate(V103.read_text()))


def test_trtexec_7_format_is_refused():
    old = "[04/30/2021-08:54:18] [I] Host Latency\n[04/30/2021-08:54:18] [I] min: 1.9 ms\n"
    with pytest.raises(TrtexecLogError, match="8.0 or later"):
        parse_trtexec_log(old)


def _records(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "results.jsonl").read_text().splitlines() if x.strip()]


def test_import_writes_a_record_with_provenance(tmp_path):
    rec = import_trtexec_log(V86, "ResNet50_vd_ssld", results_dir=tmp_path)
    import hashlib

    assert rec["key"] == "gpu:Tesla_T4|ResNet50_vd_ssld|tensorrt|fp32|t1|trt8.6.1"
    assert rec["schema"] == "edgekit.bench/1" and rec["status"] == "ok" and rec["simulated"] is False
    prov = rec["provenance"]
    assert prov["source"] == "imported" and prov["tool"] == "trtexec" and prov["gpu"] == "Tesla T4"
    assert prov["tensorrt_version"] == "8.6.1" and prov["tf32"] is False
    assert prov["log_sha256"] == hashlib.sha256(V86.read_bytes()).hexdigest()
    m = rec["measurement"]
    assert (m["median_ms"], m["p90_ms"], m["p99_ms"], m["min_ms"], m["count"]) == (3.96411, 4.03613, 4.35449, 3.9101, 500)
    assert m["extra"]["gpu_compute_ms"]["median"] == 3.89819
    assert _records(tmp_path) == [rec]


def test_import_is_idempotent_and_versions_do_not_collide(tmp_path, capsys):
    assert main(["import-trtexec", str(V103), "--model", "ResNet50_vd_ssld", "--results-dir", str(tmp_path)]) == 0
    assert main(["import-trtexec", str(V103), "--model", "ResNet50_vd_ssld", "--results-dir", str(tmp_path)]) == 0
    assert "already imported" in capsys.readouterr().err
    assert len(_records(tmp_path)) == 1
    import_trtexec_log(V86, "ResNet50_vd_ssld", gpu="NVIDIA RTX A5000", results_dir=tmp_path)
    keys = {r["key"] for r in _records(tmp_path)}
    assert keys == {"gpu:NVIDIA_RTX_A5000|ResNet50_vd_ssld|tensorrt|fp32|t1|trt10.3.0",
                    "gpu:NVIDIA_RTX_A5000|ResNet50_vd_ssld|tensorrt|fp32|t1|trt8.6.1"}


def test_trtexec_11_precision_comes_from_the_onnx_name_or_the_flag(tmp_path, capsys):
    rec = import_trtexec_log(V111, "YOLOv3-MobileNetV1", results_dir=tmp_path)
    assert rec["precision"] == "fp16"  # "Strongly Typed" + --onnx=...trt.fp16.onnx
    other = V111.read_text().replace(".trt.fp16.onnx", "_mine.onnx")
    log = tmp_path / "other.log"
    log.write_text(other)
    assert main(["import-trtexec", str(log), "--model", "YOLOv3-MobileNetV1", "--results-dir", str(tmp_path)]) == 2
    assert "pass --precision" in capsys.readouterr().err
    rec = import_trtexec_log(log, "YOLOv3-MobileNetV1", precision="fp16", results_dir=tmp_path / "b")
    assert rec["precision"] == "fp16"


@pytest.mark.parametrize("edit, args, message", [
    (None, ["--precision", "fp16"], "the log ran fp32"),
    (lambda t: t.replace("image=1x3x224x224\n", "image=8x3x224x224\n"), [], "batch 8"),
    (lambda t: "\n".join(x for x in t.splitlines() if "Selected Device" not in x), [], "pass --gpu"),
    (lambda t: t.replace("Precision: FP32", "Precision: FP32+FP16+BF16"), [], "allowed bf16"),
    (None, ["--model-typo"], None),
])
def test_import_refuses_bad_input_in_one_line(tmp_path, capsys, edit, args, message):
    log = tmp_path / "run.log"
    log.write_text(edit(V86.read_text()) if edit else V86.read_text())
    if message is None:  # an unknown model name is the zoo's one-line error
        assert main(["import-trtexec", str(log), "--model", "ResNet50_vd", "--results-dir", str(tmp_path)]) == 2
        assert "did you mean" in capsys.readouterr().err
        return
    rc = main(["import-trtexec", str(log), "--model", "ResNet50_vd_ssld", "--results-dir", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "results.jsonl").exists()  # nothing half-imported


def test_gpu_device_names_are_safe():
    assert gpu_device("Tesla T4") == "gpu:Tesla_T4"
    assert gpu_device("NVIDIA A100-SXM4-40GB; rm -rf /") == "gpu:NVIDIA_A100-SXM4-40GB_rm_-rf"


def test_report_gpu_column_beside_the_seed_labelled_with_gpu_and_trt(tmp_path):
    from edge_kit.report.tables import build_tables
    from edge_kit.report import load_records

    import_trtexec_log(V86, "ResNet50_vd_ssld", results_dir=tmp_path)
    import_trtexec_log(V103, "ResNet50_vd_ssld", results_dir=tmp_path)
    import_trtexec_log(V111, "YOLOv3-MobileNetV1", results_dir=tmp_path)
    tables = {t.section: t for t in build_tables(load_records(tmp_path))}
    cls = tables["classification"]
    seed_at = cls.columns.index("GPU ms bs=1 (seed)")
    assert cls.columns[seed_at + 1:seed_at + 3] == [
        "GPU ms (imported), NVIDIA RTX A5000, TensorRT 10.3.0 fp32 (TF32 on)",
        "GPU ms (imported), Tesla T4, TensorRT 8.6.1 fp32"]
    row = {r[0]: r for r in cls.rows}["ResNet50_vd_ssld"]
    assert row[seed_at:seed_at + 3] == ["3.47712", "1.20", "3.96"]  # the seed's own digits stay beside ours
    other = {r[0]: r for r in cls.rows}["ResNet101_vd_ssld"]
    assert other[seed_at:seed_at + 3] == ["6.11704", "not measured", "not measured"]
    det = tables["detection"]
    at = det.columns.index("GPU ms bs=1 (seed)")
    assert det.columns[at + 1] == "GPU ms (imported), NVIDIA L4, TensorRT 11.1.0 fp16"
    assert {r[0]: r for r in det.rows}["YOLOv3-MobileNetV1"][at:at + 2] == ["11.834", "3.34"]
    assert not any(c.startswith("GPU ms (") for c in tables["instance_segmentation"].columns)


def test_report_without_gpu_records_has_no_gpu_column_and_no_gpu_number(tmp_path):
    """Host and simulated records never reach a GPU column; the seed's figure is the only GPU number."""
    from edge_kit.bench.cell import Cell, Measurement
    from edge_kit.bench.store import ResultStore, make_record
    from edge_kit.report.tables import build_tables

    store = ResultStore(tmp_path)
    for dev, sim in (("host", False), ("sd855-sim", True)):
        store.append(make_record(Cell("ResNet50_vd_ssld", "onnxruntime", "fp32", 1, dev), status="ok",
                                 device_info={}, simulated=sim, measurement=Measurement(5, 9.0, 9.5, 9.6)))
    cls = {t.section: t for t in build_tables(list(store.latest().values()))}["classification"]
    gpu_cols = [c for c in cls.columns if c.startswith("GPU")]
    assert gpu_cols == ["GPU ms bs=1 (seed)"]


def test_a_failed_gpu_record_reads_failed_not_a_number(tmp_path):
    from edge_kit.report.tables import build_tables

    rec = import_trtexec_log(V86, "ResNet50_vd_ssld", results_dir=tmp_path)
    rec = {**rec, "status": "failed", "reason": "engine build failed"}
    cls = {t.section: t for t in build_tables([rec])}["classification"]
    col = cls.columns.index("GPU ms (imported), Tesla T4, TensorRT 8.6.1 fp32")
    assert {r[0]: r for r in cls.rows}["ResNet50_vd_ssld"][col] == "failed"
    assert any("engine build failed" in n for n in cls.notes)


def test_report_md_says_where_imported_numbers_come_from(tmp_path):
    from edge_kit.report import render_report

    rec = import_trtexec_log(V86, "ResNet50_vd_ssld", results_dir=tmp_path)
    render_report(tmp_path, formats=("md",))
    md = (tmp_path / "report.md").read_text()
    assert "imported from its log" in md
    assert f"sha256 {rec['provenance']['log_sha256'][:12]}" in md and "TensorRT 8.6.1, GPU Tesla T4" in md
