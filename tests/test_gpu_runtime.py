"""The TensorRT runner: trtexec's statistics, engine cache keys, measured records, and the GPU path, which
runs only where TensorRT and a GPU exist and is skipped (with the reason) everywhere else."""
from __future__ import annotations

import time

import pytest

from edge_kit.cli import main
from edge_kit.gpu import trt_runtime as rt
from edge_kit.gpu.records import measured_record

GPU_OK, GPU_WHY = rt.gpu_status()


def test_percentile_and_median_follow_trtexec_float32_formula():
    ten = [float(i) for i in range(10)]
    # float32: (1 - 0.9f) * 10 = 1.0000002 -> exclude 1 -> index 8 (float64 arithmetic would give 9)
    assert rt.trtexec_percentile(ten, 90) == 8.0
    assert rt.trtexec_percentile(ten, 100) == 9.0 and rt.trtexec_percentile(ten, 0) == 0.0
    five_hundred = [float(i) for i in range(500)]
    assert rt.trtexec_percentile(five_hundred, 99) == 495.0  # (1 - 0.99f) * 500 = 4.9999952 -> exclude 4
    assert rt.trtexec_median([1.0, 2.0, 3.0]) == 2.0 and rt.trtexec_median([1.0, 2.0, 3.0, 10.0]) == 2.5
    s = rt.summarize([3.0, 1.0, 2.0, 10.0])
    assert (s["min"], s["max"], s["median"], s["mean"], s["count"]) == (1.0, 10.0, 2.5, 4.0, 4)


def test_engine_cache_key_covers_everything_an_engine_depends_on():
    base = dict(onnx_sha256="ab" * 32, precision="fp32", trt_version="10.8.0", gpu="Tesla T4",
                compute_capability="7.5")
    k = rt.engine_cache_key(**base)
    for field, other in (("onnx_sha256", "cd" * 32), ("precision", "fp16"), ("trt_version", "11.1.0"),
                         ("gpu", "NVIDIA L4"), ("compute_capability", "8.9")):
        assert rt.engine_cache_key(**{**base, field: other}) != k, field
    assert rt.engine_cache_key(**base, weak_fp16=True) != k
    assert rt.engine_cache_key(**base) == k


def test_measured_record_and_its_column(tmp_path):
    from edge_kit.bench.store import ResultStore
    from edge_kit.report.tables import build_tables, where_measured

    lat = [2.0, 2.2, 2.1, 2.4, 9.0]
    samples = {"latency": lat, "gpu_compute": [x - 0.3 for x in lat], "h2d": [0.2] * 5, "d2h": [0.1] * 5,
               "host_wall": [x + 0.05 for x in lat]}
    gpu = {"gpu": "Tesla T4", "compute_capability": "7.5", "driver": "550.54.15", "cuda_driver": 12040,
           "cuda_runtime": 12060, "sm_clock_mhz": 1590, "mem_clock_mhz": 5000, "max_sm_clock_mhz": 1590.0,
           "max_mem_clock_mhz": 5001.0}
    rec = measured_record("ResNet50_vd_ssld", "fp32", samples, gpu, trt_version="10.8.0",
                          engine={"path": "/x/model.engine"}, onnx={"sha256": "00"}, warmup=5, iterations=5)
    m = rec["measurement"]
    assert m["median_ms"] == 2.2 and m["max_ms"] == 9.0 and m["count"] == 5
    assert m["extra"]["gpu_compute_ms"]["median"] == pytest.approx(1.9)
    assert rec["provenance"]["source"] == "measured" and rec["provenance"]["tf32"] is False
    assert rec["provenance"]["driver"] == "550.54.15" and rec["provenance"]["clocks_mhz"]["sm_clock_mhz"] == 1590
    store = ResultStore(tmp_path)
    store.append(rec)  # the store accepts it as a normal bench record
    records = list(store.latest().values())
    cls = {t.section: t for t in build_tables(records)}["classification"]
    col = "GPU ms (measured), Tesla T4, TensorRT 10.8.0 fp32"
    assert cls.columns[cls.columns.index("GPU ms bs=1 (seed)") + 1] == col
    assert {r[0]: r for r in cls.rows}["ResNet50_vd_ssld"][cls.columns.index(col)] == "2.20"
    where = " ".join(where_measured(records))
    assert "measured by edgekit's TensorRT runner, TensorRT 10.8.0, driver 550.54.15" in where


@pytest.mark.skipif(GPU_OK, reason="TensorRT and a GPU are present: the skip path is not reachable here")
def test_gpu_bench_without_tensorrt_says_so_in_one_line_and_converts_nothing(tmp_path, capsys):
    t0 = time.time()
    rc = main(["bench", "--device", "gpu", "--backend", "tensorrt", "ResNet50_vd_ssld",
               "--results-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("edgekit: --device gpu skipped, nothing measured: tensorrt is not importable")
    assert not (tmp_path / "results.jsonl").exists()
    assert time.time() - t0 < 10  # it stopped before converting anything


def test_gpu_bench_refuses_other_backends(capsys):
    assert main(["bench", "--device", "gpu", "--backend", "onnxruntime", "ResNet50_vd_ssld"]) == 2
    assert "--backend tensorrt only" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not GPU_OK, reason=f"no TensorRT GPU here: {GPU_WHY}")
def test_engine_build_and_timing_on_a_real_gpu(tmp_path):
    from edge_kit.gpu.bench import run_gpu_bench
    from edge_kit.report import load_records

    measured, failed, device = run_gpu_bench(["MobileNetV3_small_ssld"], ["fp32", "fp16"], warmup=20,
                                             iterations=100, results_dir=str(tmp_path), onnx_dir=str(tmp_path / "o"))
    assert failed == [] and len(measured) == 2
    for rec in load_records(tmp_path):
        m = rec["measurement"]
        assert 0 < m["extra"]["gpu_compute_ms"]["median"] <= m["median_ms"] <= m["max_ms"]
        assert rec["provenance"]["engine"]["tf32"] is False
