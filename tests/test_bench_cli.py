"""`edgekit bench` and `edgekit report` end to end on one tiny real model (converter stood in by real files)."""
import pytest

from edge_kit.bench.store import ResultStore
from edge_kit.cli import main
from edge_kit.bench.plan import default_models
from test_bench_helpers import TinyProvider, bench_cli, make_tiny_artifacts


@pytest.fixture
def tiny_converter(tmp_path_factory):
    return TinyProvider(make_tiny_artifacts(tmp_path_factory.mktemp("tiny")))


def test_bench_then_report(tmp_path, tiny_converter, capsys):
    res = tmp_path / "res"
    rc = bench_cli(tiny_converter, ["MobileNetV3_small_ssld", "--backend", "onnxruntime,tflite,paddlelite",
                                    "--threads", "1", "--warmup", "1", "--repeats", "4", "--results-dir", str(res)])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "measured 3 cell(s) on host" in err and "results.jsonl" in err
    assert "[####################] 3/3" in err  # progress on stderr, not stdout
    # the numbers it measured, one line per cell (not the whole report table)
    assert "MobileNetV3_small_ssld Paddle-Lite fp32 1T on host: median " in out and "## Image" not in out
    assert len(ResultStore(res).done_keys()) == 3
    # same command again: everything is resumed from the store
    assert bench_cli(tiny_converter, ["MobileNetV3_small_ssld", "--backend", "onnxruntime,tflite,paddlelite",
                                      "--threads", "1", "--repeats", "4", "--results-dir", str(res), "--quiet"]) == 0
    assert "measured 0 cell(s) on host, skipped 3" in capsys.readouterr().err
    assert main(["report", "--results-dir", str(res), "-o", str(tmp_path / "rep"), "--format", "md,png"]) == 0
    assert (tmp_path / "rep" / "report.md").exists() and (tmp_path / "rep" / "report.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["bench", "--device", "pixel"], "unknown device 'pixel'"),
    (["bench", "--threads", "one"], "--threads takes comma-separated integers"),
    (["bench", "MobileNetV3_small_ssld", "--backend", "tensorflow"], "unknown backend(s) tensorflow"),
    (["report", "--format", "pdf"], "unknown report format"),
])
def test_bad_input_is_one_line(argv, message, capsys, tmp_path):
    from edge_kit.report import render_report  # noqa: F401  (import cost outside the assertion)

    ResultStore(tmp_path).check_writable()
    rc = main(argv + ["--results-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1


def test_default_models_are_the_lightweight_classifiers():
    models = default_models()
    assert set(models) <= {"MobileNetV3_small_ssld", "ShuffleNetV2", "MobileNetV3_large_ssld", "MobileNetV2"}
