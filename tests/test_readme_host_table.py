"""README's host table is generated from the results of ONE machine (scripts/readme_host_table.py)."""
from __future__ import annotations

import json
import shlex
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import readme_host_table  # noqa: E402

from edge_kit.report import readme_table  # noqa: E402

A, B = "a" * 16, "b" * 16


def _rec(machine, model, backend, precision, threads, ms, noisy=False, when="2026-11-29T06:00:00+0000",
         load=(1.5, 1.0, 0.5), status="ok", cpu="Intel(R) Xeon(R) Processor"):
    info = {"name": "host", "cpu_model": cpu, "cores": 2, "os": "Linux 6.1", "machine": "x86_64",
            "machine_id": machine, "edgekit": "0.1.0", "git_revision": "0123456789abcdef", "git_dirty": False,
            "runtimes": {"ai-edge-litert": "2.3.0", "onnxruntime": "1.23.2", "paddlelite": "2.13rc0",
                         "paddlepaddle": "3.3.1", "numpy": "1.26.4"}}
    return {"schema": "edgekit.bench/1", "key": f"host|{model}|{backend}|{precision}|t{threads}",
            "status": status, "reason": "" if status == "ok" else "boom", "model": model, "backend": backend,
            "precision": precision, "threads": threads, "device": "host", "simulated": False,
            "measurement": {"median_ms": ms, "cv": 0.3 if noisy else 0.02} if status == "ok" else None,
            "flags": {"noisy": noisy, "host_load_avg": list(load)}, "device_info": info, "artifact": None,
            "timestamp": when}


def _results(tmp_path):
    m = "MobileNetV3_small_ssld"
    recs = [
        _rec(A, m, "tflite", "fp32", 1, 2.09, when="2026-11-29T06:00:00+0000", load=(0.9, 1, 1)),
        _rec(A, m, "tflite", "fp32", 2, 1.34, noisy=True, load=(3.25, 1, 1)),
        _rec(A, m, "tflite", "fp16", 1, 2.01),
        _rec(A, m, "onnxruntime", "fp32", 1, 2.64),
        _rec(A, m, "paddle", "fp32", 1, 0.5, status="failed"),
        _rec(A, "YOLOv3-MobileNetV1", "onnxruntime", "fp32", 2, 132.21, when="2026-11-29T07:10:00+0000"),
        # a later noisy re-measure does not replace the clean 2.09 (ResultStore.latest)
        _rec(A, m, "tflite", "fp32", 1, 7.0, noisy=True, when="2026-11-29T07:00:00+0000"),
        # machine B: other numbers, a model A never measured; none of it belongs in A's table
        _rec(B, m, "tflite", "fp32", 1, 99.9, cpu="AMD EPYC"),
        _rec(B, m, "onnxruntime", "fp32", 2, 88.8, noisy=True, cpu="AMD EPYC"),
        _rec(B, "FastSCNN", "tflite", "fp32", 1, 17.26, cpu="AMD EPYC"),
    ]
    d = tmp_path / "results"
    d.mkdir()
    (d / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return d


def _rows(markdown: str) -> dict[str, list[str]]:
    lines = [ln for ln in markdown.splitlines() if ln.startswith("| ") and not ln.startswith("| :---")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    assert head == ["model", "LiteRT 1T", "LiteRT 2T", "LiteRT fp16 1T", "onnxruntime 1T", "onnxruntime 2T",
                    "Paddle-Lite x86 1T", "Paddle Inference 1T", "Paddle Inference 2T", "SD855 ms (seed)"]
    return {r[0]: r[1:] for r in ([c.strip() for c in ln.strip("|").split("|")] for ln in lines[1:])}


def test_table_of_one_machine_with_noisy_marks(tmp_path):
    t = readme_table.build(_results(tmp_path), A)
    rows = _rows(t.markdown)
    assert list(rows) == ["MobileNetV3_small_ssld", "YOLOv3-MobileNetV1"]   # seed order; B's FastSCNN absent
    assert rows["MobileNetV3_small_ssld"] == ["2.09", "1.34 (noisy)", "2.01", "2.64", "not measured",
                                              "not measured", "failed", "not measured", "6.5463"]
    assert rows["YOLOv3-MobileNetV1"] == ["not measured"] * 4 + ["132.21"] + ["not measured"] * 3 + ["-"]
    p = t.provenance
    assert "Intel(R) Xeon(R) Processor, 2 cores" in p and "EPYC" not in p
    assert "ai-edge-litert 2.3.0, onnxruntime 1.23.2, paddlelite 2.13rc0, paddlepaddle 3.3.1" in p
    assert "2026-11-29T06:00:00+0000 to 2026-11-29T07:10:00+0000" in p
    assert "load average 0.90-3.25" in p and "without oneDNN" in p and "1 noisy, 1 failed" in p


def test_other_machine_and_cli(tmp_path, capsys):
    d = _results(tmp_path)
    rows = _rows(readme_table.build(d, B).markdown)
    assert list(rows) == ["MobileNetV3_small_ssld", "FastSCNN"]
    assert rows["MobileNetV3_small_ssld"][:5] == ["99.90", "not measured", "not measured", "not measured",
                                                  "88.80 (noisy)"]
    assert readme_host_table.main(["--results-dir", str(d), "--machine", "bbb"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Measured by edgekit on AMD EPYC") and "| FastSCNN | 17.26 |" in out
    # this machine measured nothing here: one clear line naming the machines that did
    assert readme_host_table.main(["--results-dir", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and A in err and B in err


def test_bench_command_measures_every_cell_of_the_table():
    """Parsed by bench's own parser and planned on the host: exactly the table's cells (+ LiteRT fp16 2T)."""
    from edge_kit.bench.host_device import HostDevice
    from edge_kit.bench.plan import plan_cells
    from edge_kit.cli import build_parser
    from edge_kit.commands.bench import _bench_kw

    argv = shlex.split(readme_host_table.readme_table.bench_command())
    assert argv[:3] == ["bash", "scripts/edgekit", "bench"]
    args = build_parser().parse_args(argv[2:])
    kw = _bench_kw(args, (1,))
    plan = plan_cells(args.models, HostDevice(), kw["backends"], kw["precisions"], kw["threads"], set())
    cells = {(c.model, c.backend, c.precision, c.threads) for s in plan.steps for c in s.cells}
    want = {(m, b, p, t) for m in readme_table.MODELS for _, b, p, t in readme_table.COLUMNS}
    assert want <= cells and cells - want == {(m, "tflite", "fp16", 2) for m in readme_table.MODELS}
    assert len(cells) == 117
