"""The SD855 estimate: leave-one-out arithmetic, where it is (not) shown, and its labelling."""
import math

import pytest

from edge_kit.estimate import Published, calibrate, estimated_columns, host_medians
from edge_kit.report.tables import build_tables
from conftest import run_cli


def _pub(model, t, ms, role="calibration"):
    return Published(model, model, "paddlelite", "fp32", t, ms, "test", role)


def _rec(model, ms, device="host", backend="paddlelite", threads=1, simulated=False, status="ok"):
    return {"schema": "edgekit.bench/1", "key": f"{device}|{model}|{backend}|fp32|t{threads}", "model": model,
            "backend": backend, "precision": "fp32", "threads": threads, "device": device, "simulated": simulated,
            "status": status, "measurement": {"median_ms": ms}, "flags": {}, "device_info": {}, "artifact": None}


def test_leave_one_out_by_hand():
    host = {"a": 1.0, "b": 2.0, "c": 4.0}
    pub = [_pub("a", 1, 2.0), _pub("b", 1, 4.0), _pub("c", 1, 16.0), _pub("c", 4, 1.0)]
    [cal] = calibrate(host, pub).values()          # 4 threads: one model only -> no calibration there
    assert cal.threads == 1
    # ratios 2, 2, 4: leaving c out fits 2 -> predicts 8 for c (published 16): -50%
    est_c, _ = cal.loo["c"]
    assert est_c == pytest.approx(8.0) and cal.errors()["c"] == pytest.approx(-0.5)
    # leaving a out fits sqrt(2*4) -> predicts 2*sqrt(2) for a (published 2)
    assert cal.loo["a"][0] == pytest.approx(2 * math.sqrt(2))
    assert cal.factor == pytest.approx((2 * 2 * 4) ** (1 / 3))
    assert cal.max_abs_error == pytest.approx(0.5)
    assert "LOO error" in cal.label() and "estimated" in cal.label()


def test_exact_scaling_has_zero_error_and_too_few_models_no_estimate():
    host = {"a": 1.0, "b": 3.0, "c": 5.0}
    [cal] = calibrate(host, [_pub(m, 2, 1.5 * v) for m, v in host.items()]).values()
    assert cal.mean_abs_error == pytest.approx(0.0) and cal.factor == pytest.approx(1.5)
    assert calibrate({"a": 1.0, "b": 2.0}, [_pub("a", 1, 2.0), _pub("b", 1, 4.0)]) == {}


def test_only_real_host_paddlelite_1t_calibrates():
    recs = [_rec("MobileNetV2", 9.0), _rec("MobileNetV2", 1.0, device="sd855-sim", simulated=True),
            _rec("ShuffleNetV2", 5.0, backend="tflite"), _rec("MobileNetV3_small_ssld", 3.0, threads=2),
            _rec("MobileNetV3_large_ssld", 8.0, status="failed")]
    assert host_medians(recs) == {"MobileNetV2": 9.0}
    assert estimated_columns(recs) == ({}, [])        # error unknown -> nothing shown


def test_report_columns_are_labelled_and_only_for_the_calibration_family():
    recs = [_rec(m, v) for m, v in (("MobileNetV3_small_ssld", 2.9), ("ShuffleNetV2", 5.7),
                                    ("MobileNetV3_large_ssld", 8.8), ("MobileNetV2", 9.7), ("ResNet50_vd_ssld", 103.0))]
    [cls] = [t for t in build_tables(recs) if t.section == "classification"]
    est_cols = [i for i, c in enumerate(cls.columns) if c.startswith("SD855 ms (estimated")]
    assert len(est_cols) == 3 and all("LOO error" in cls.columns[i] for i in est_cols)
    rows = {r[0]: r for r in cls.rows}
    assert all(rows["MobileNetV2"][i].endswith("(estimated)") for i in est_cols)
    assert all(rows["ResNet50_vd_ssld"][i] == "-" for i in est_cols)   # outside the family: error unknown
    # the measured SD855 slot stays "not measured": an estimate never fills it
    assert rows["MobileNetV2"][cls.columns.index("SD855 ms (measured)")] == "not measured"
    assert any("leave-one-out" in n for n in cls.notes)


def test_cli_prints_loo_error(tmp_path):
    import json

    d = tmp_path / "res"
    d.mkdir()
    recs = [_rec(m, v) for m, v in (("MobileNetV3_small_ssld", 2.9), ("ShuffleNetV2", 5.7), ("MobileNetV2", 9.7))]
    (d / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = run_cli("estimate", "--results-dir", str(d))
    assert r.returncode == 0, r.stderr
    assert "ESTIMATED" in r.stdout and "**leave-one-out error**" in r.stdout
    assert "| 4 | " in r.stdout and "MobileNetV3_large_ssld" not in r.stdout   # not measured here: left out
    (d / "results.jsonl").write_text(json.dumps(recs[0]) + "\n")
    r = run_cli("estimate", "--results-dir", str(d))
    assert r.returncode == 2 and "no estimate" in r.stderr and "Traceback" not in r.stderr
