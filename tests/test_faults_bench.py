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
from test_bench_helpers import TinyProvider, bench_cli, make_tiny_artifacts

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


def test_runtime_abort_fails_its_cell_and_the_rest_still_run(tmp_path, tiny):
    bad = _truncated_nb(tiny, tmp_path)
    by_format = TinyProvider(tiny).by_format

    def artifacts_for(model, wants):
        return {w: (bad if (model, w.format) == (M1, "paddlelite") else by_format[w.format]) for w in wants}

    s = harness.run_bench([M1, M2], HostDevice(), backends=["paddlelite", "onnxruntime"], threads=(1,), warmup=1,
                          repeats=5, results_dir=tmp_path / "res", progress=False, provider=artifacts_for)
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


def _converter(tiny, broken=()):
    by_format = TinyProvider(tiny).by_format

    def artifacts_for(model, wants):
        return {w: ("conversion failed: injected" if w.format in broken else by_format[w.format]) for w in wants}

    return artifacts_for


def test_failed_cells_make_a_nonzero_exit_and_numbers_are_printed(tmp_path, tiny, capsys):
    converter = _converter(tiny, broken=("tflite",))
    rc = bench_cli(converter, [M1, "--backend", "onnxruntime,tflite", "--threads", "1", "--warmup", "1", "--repeats",
                               "4", "--results-dir", str(tmp_path), "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 1 and "1 failed" in err
    assert f"{M1} onnxruntime fp32 1T on host: median " in out and "FAILED: conversion failed" in out
    assert "Storage MB (seed)" not in out   # the cells it measured, not the 20-column table of every model
    rc = bench_cli(converter, [M1, "--backend", "onnxruntime", "--threads", "1", "--results-dir", str(tmp_path),
                               "--quiet", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["skipped"] == 1 and doc["cells"][0]["median_ms"] > 0


def _record(key_model, machine_info, median, noisy=False, status="ok"):
    from edge_kit.bench.cell import Cell, Measurement
    from edge_kit.bench.store import make_record

    cell = Cell(key_model, "onnxruntime", "fp32", 1, "host")
    m = Measurement(count=3, min_ms=median, median_ms=median, mean_ms=median, p90_ms=median, p99_ms=median,
                    max_ms=median, std_ms=0.0, samples_ms=[median] * 3) if status == "ok" else None
    return make_record(cell, status=status, device_info=machine_info, simulated=False, measurement=m,
                       flags={"noisy": noisy})


def test_records_from_another_machine_are_not_already_measured(tmp_path, tiny):
    from edge_kit.bench.host_device import describe_host
    from edge_kit.report import load_records
    from edge_kit.report.tables import latency_column

    other = {k: v for k, v in describe_host().items() if k != "machine_id"}  # as the committed records are
    other["cpu_model"] = "Some Other CPU"
    store = ResultStore(tmp_path)
    store.append(_record(M1, other, 2.0))
    s = harness.run_bench([M1], HostDevice(), backends=["onnxruntime"], threads=(1,), warmup=1, repeats=4,
                          results_dir=tmp_path, progress=False, provider=_converter(tiny))
    assert s.measured == [f"host|{M1}|onnxruntime|fp32|t1"] and not s.skipped_done
    # both machines stay in the report, each column labelled by its machine
    cols = {latency_column(r) for r in load_records(tmp_path)}
    assert len(cols) == 2 and any("Some Other CPU" in c for c in cols), cols
    again = harness.run_bench([M1], HostDevice(), backends=["onnxruntime"], threads=(1,), warmup=1, repeats=4,
                              results_dir=tmp_path, progress=False, provider=_converter(tiny))
    assert again.skipped_done == [f"host|{M1}|onnxruntime|fp32|t1"] and not again.measured


def test_force_under_load_does_not_replace_a_quiet_measurement(tmp_path):
    from edge_kit.bench.host_device import describe_host

    store = ResultStore(tmp_path)
    store.append(_record(M1, describe_host(), 2.09))
    store.append(_record(M1, describe_host(), 7.0, noisy=True))  # a forced re-run under load
    (rec,) = store.latest().values()
    assert rec["measurement"]["median_ms"] == 2.09
    store.append(_record(M1, describe_host(), 2.5))  # a clean re-measure does replace it
    (rec,) = store.latest().values()
    assert rec["measurement"]["median_ms"] == 2.5


@pytest.mark.parametrize("threads", ["100000", "65", "0"])
def test_absurd_thread_counts_are_refused(threads, capsys, tmp_path):
    from edge_kit.cli import main

    rc = main(["bench", M1, "--threads", threads, "--results-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "--threads takes integers from 1 to 64" in err and err.count("\n") == 1


def test_report_png_one_panel_per_machine_log_axis_noisy_marked(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edge_kit.bench.host_device import describe_host
    from edge_kit.report import load_records
    from edge_kit.report.plot import write_png

    store = ResultStore(tmp_path)
    here = describe_host()
    store.append(_record(M1, here, 2.0))
    store.append(_record(M2, here, 600.0, noisy=True))
    rec = _record(M1, here, 3.0)
    rec.update(key=rec["key"].replace("|t1", "|t2"), threads=2)  # another thread count: same machine
    store.append(rec)
    figs = []
    monkeypatch.setattr(plt, "close", lambda fig: figs.append(fig))
    assert write_png(load_records(tmp_path), tmp_path / "r.png")
    (fig,) = figs
    axes = [a for a in fig.axes if a.get_title(loc="left")]
    assert len(axes) == 1  # one machine, one panel (not one per thread count)
    assert axes[0].get_xscale() == "log"
    texts = [t.get_text() for t in axes[0].texts]
    assert any(t.endswith("noisy") for t in texts) and "2.00" in texts
    assert axes[0].get_legend().get_texts()[0].get_fontsize() >= 9
    # the title sits above the first panel, not on it
    fig.canvas.draw()
    title_box = fig._suptitle.get_window_extent()
    assert title_box.y0 >= axes[0]._left_title.get_window_extent().y1
    plt.close("all")


def test_runtime_chatter_stays_out_of_the_terminal_and_json(tmp_path, tiny, capfd):
    """LiteRT's 'INFO: Created TensorFlow Lite XNNPACK delegate' and Paddle's warnings came out of the
    measuring child onto the terminal (breaking the progress line); stdout must stay pure JSON."""
    rc = bench_cli(TinyProvider(tiny), [M1, "--backend", "tflite,paddle", "--threads", "1", "--warmup", "1",
                                        "--repeats", "3", "--results-dir", str(tmp_path), "--quiet", "--json"])
    out, err = capfd.readouterr()
    assert rc == 0, err
    assert [c["backend"] for c in json.loads(out)["cells"]] == ["tflite", "paddle"]
    assert "XNNPACK" not in err and "Warning" not in err, err


def test_a_crash_reason_carries_the_runtime_last_words(tmp_path, tiny):
    bad = _truncated_nb(tiny, tmp_path)
    s = harness.run_bench([M1], HostDevice(), backends=["paddlelite"], threads=(1,), warmup=1, repeats=3,
                          results_dir=tmp_path / "res", progress=False, provider=lambda m, wants: {w: bad for w in wants})
    ((key, reason),) = s.failed
    assert "while loading" in reason and "Check failed" in reason, reason   # Lite's own [F ...] line
