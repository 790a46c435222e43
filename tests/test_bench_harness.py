"""run_bench on real runtimes with tiny real artifacts: records, resume, force, failures, noise, Ctrl-C."""
import pytest

from edge_kit.bench import harness
from edge_kit.bench.artifacts import Want, convert_on_demand, resolve
from edge_kit.bench.cell import Cell
from edge_kit.bench.host_device import HostDevice
from edge_kit.bench.store import ResultStore
from edge_kit.errors import EdgekitError, OutputDirError, UnknownModelError
from test_bench_helpers import TinyProvider, make_tiny_artifacts

M1, M2 = "MobileNetV3_small_ssld", "ShuffleNetV2"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_artifacts(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def converter(tiny):
    """Stand-in for the converter: returns the real tiny artifacts; a model in `.broken` fails."""
    return TinyProvider(tiny)


def _bench(tmp_path, converter, models=(M1,), **kw):
    args = dict(backends=["onnxruntime", "tflite"], threads=(1,), warmup=1, repeats=6, results_dir=tmp_path,
                progress=False, provider=converter)
    args.update(kw)
    return harness.run_bench(list(models), HostDevice(), **args)


def test_records_every_cell_with_full_statistics(tmp_path, converter):
    s = _bench(tmp_path, converter, threads=(1, 2))
    assert len(s.measured) == 4 and not s.failed
    recs = list(ResultStore(tmp_path).records())
    assert {(r["backend"], r["threads"]) for r in recs} == {("onnxruntime", 1), ("onnxruntime", 2),
                                                           ("tflite", 1), ("tflite", 2)}
    for r in recs:
        m = r["measurement"]
        assert r["status"] == "ok" and r["simulated"] is False and r["device"] == "host"
        assert m["count"] >= 6 and len(m["samples_ms"]) == m["count"]
        assert 0 < m["min_ms"] <= m["median_ms"] <= m["p90_ms"] <= m["p99_ms"] <= m["max_ms"]
        assert m["init_ms"] > 0 and m["first_ms"] > 0 and m["peak_rss_mb"] > 50
        assert r["flags"]["interleaved"] and r["flags"]["interleaved_with"] == 4
        assert r["artifact"]["bytes"] > 1000 and len(r["artifact"]["sha256"]) == 64
        assert r["device_info"]["cpu_model"] and r["device_info"]["runtimes"]["onnxruntime"]
        assert m["extra"]["runner"]["threads"] == r["threads"]


def test_resume_skips_finished_cells_and_force_remeasures(tmp_path, converter):
    _bench(tmp_path, converter)
    lines = ResultStore(tmp_path).path.read_text().count("\n")
    again = _bench(tmp_path, converter, backends=["onnxruntime", "tflite", "paddlelite"])
    assert sorted(again.skipped_done) == [f"host|{M1}|onnxruntime|fp32|t1", f"host|{M1}|tflite|fp32|t1"]
    assert again.measured == [f"host|{M1}|paddlelite|fp32|t1"]
    assert ResultStore(tmp_path).path.read_text().count("\n") == lines + 1
    forced = _bench(tmp_path, converter, force=True)
    assert len(forced.measured) == 2 and not forced.skipped_done
    assert ResultStore(tmp_path).path.read_text().count("\n") == lines + 3


def test_failed_conversion_is_recorded_and_the_run_goes_on(tmp_path, converter):
    converter.broken[M1] = "conversion failed: Opt aborted (exit 134)"
    s = _bench(tmp_path, converter, models=(M1, M2))
    assert {k for k, _ in s.failed} == {f"host|{M1}|onnxruntime|fp32|t1", f"host|{M1}|tflite|fp32|t1"}
    assert len(s.measured) == 2 and all(M2 in k for k in s.measured)
    latest = ResultStore(tmp_path).latest()
    assert latest[f"host|{M1}|tflite|fp32|t1"]["reason"] == "conversion failed: Opt aborted (exit 134)"
    assert latest[f"host|{M1}|tflite|fp32|t1"]["status"] == "failed"
    # a failed cell is not "done": the next run retries it
    assert f"host|{M1}|tflite|fp32|t1" not in ResultStore(tmp_path).done_keys()


def test_noisy_cells_are_remeasured_once_then_flagged(tmp_path, converter):
    s = _bench(tmp_path, converter, cv_threshold=0.0)  # every real measurement has some spread
    assert sorted(s.noisy) == sorted(s.measured)
    for r in ResultStore(tmp_path).records():
        assert r["flags"]["remeasured"] and r["flags"]["noisy"] and r["flags"]["first_cv"] > 0


def test_paddle_inference_and_lite_cells(tmp_path, converter):
    s = _bench(tmp_path, converter, backends=["paddle", "paddlelite", "onnxruntime"], precisions=("fp32", "fp16"),
               threads=(1, 2))
    assert sorted(s.measured) == sorted([f"host|{M1}|paddle|fp32|t1", f"host|{M1}|paddle|fp32|t2",
                                         f"host|{M1}|paddlelite|fp32|t1", f"host|{M1}|onnxruntime|fp32|t1",
                                         f"host|{M1}|onnxruntime|fp32|t2"])
    # fp16 has no host kernels for Paddle or Lite and edgekit's ONNX is fp32; Lite's Python predictor
    # cannot set threads: not measured, not faked, and not recorded as failures either
    assert set(s.not_applicable) == {f"host|{M1}|paddle|fp16|t1", f"host|{M1}|paddle|fp16|t2",
                                     f"host|{M1}|paddlelite|fp16|t1", f"host|{M1}|paddlelite|fp16|t2",
                                     f"host|{M1}|paddlelite|fp32|t2", f"host|{M1}|onnxruntime|fp16|t1",
                                     f"host|{M1}|onnxruntime|fp16|t2"}
    assert s.failed == []


def test_ctrl_c_keeps_what_was_written(tmp_path, converter):
    def interrupt_on_second(model, wants):
        if model == M2:
            raise KeyboardInterrupt
        return converter(model, wants)

    s = _bench(tmp_path, interrupt_on_second, models=(M1, M2))
    assert s.interrupted and len(s.measured) == 2
    assert ResultStore(tmp_path).done_keys() == set(s.measured)


def test_device_that_times_itself_is_asked_cell_by_cell(tmp_path, converter):
    class OneByOne(HostDevice):
        interleaves = False  # like a phone: the device's own measure() per cell

    s = harness.run_bench([M1], OneByOne(), backends=["tflite"], threads=(1,), warmup=1, repeats=5,
                          results_dir=tmp_path, progress=False, provider=converter)
    (rec,) = ResultStore(tmp_path).records()
    assert s.measured == [rec["key"]] and rec["measurement"]["count"] == 5
    assert rec["flags"]["interleaved"] is False


def test_bad_input_fails_before_measuring(tmp_path, converter):
    with pytest.raises(EdgekitError, match="unknown backend"):
        _bench(tmp_path, converter, backends=["tensorflow"])
    with pytest.raises(UnknownModelError, match="did you mean"):
        _bench(tmp_path, converter, models=("MobileNetV3_smal",))
    with pytest.raises(EdgekitError, match="threads"):
        _bench(tmp_path, converter, threads=(0,))
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(OutputDirError):
        _bench(blocker / "res", converter)


def test_resolve_asks_the_provider_once_for_what_the_device_runs(tiny):
    class Phone:
        name = "sd855"

        def artifact_target(self, backend):
            return "arm" if backend == "paddlelite" else "cpu"

    cells = [Cell(M1, "paddlelite", "fp32", 1, "sd855"), Cell(M1, "paddlelite", "fp32", 4, "sd855"),
             Cell(M1, "tflite", "fp16", 1, "sd855"), Cell(M1, "onnxruntime", "fp32", 1, "sd855")]
    asked, recorded = [], []

    def provider(model, wants):
        asked.append((model, wants))
        return {Want("paddlelite", "fp32", "arm"): tiny["paddlelite"], Want("tflite", "fp16", "cpu"): "no fp16 here"}

    def record(cell, **kw):
        recorded.append((cell.key(), kw["reason"]))

    runnable = resolve(M1, cells, Phone(), provider, record, available={"paddlelite", "tflite"})
    # one call, each artifact wanted once, the phone's arm .nb, nothing for a backend the phone lacks
    assert asked == [(M1, [Want("paddlelite", "fp32", "arm"), Want("tflite", "fp16", "cpu")])]
    assert [(c.threads, a) for c, a in runnable] == [(1, tiny["paddlelite"]), (4, tiny["paddlelite"])]
    assert recorded == [(f"sd855|{M1}|onnxruntime|fp32|t1", "backend onnxruntime is not available on sd855"),
                        (f"sd855|{M1}|tflite|fp16|t1", "no fp16 here")]
    # a file the user named (--artifact) is timed as given: the provider is not asked
    given = resolve(M1, cells[:1], Phone(), provider, record, available={"paddlelite"}, given=tiny["tflite"])
    assert given == [(cells[0], tiny["tflite"])] and len(asked) == 1


@pytest.mark.slow
def test_real_converter_seam_gives_the_paddle_reference():
    """The default provider calls edge_kit.convert: the reference is picked for the paddle backend."""
    want = Want("paddle", "fp32", HostDevice().artifact_target("paddle"))
    art = convert_on_demand(M1, [want])[want]
    assert not isinstance(art, str), art
    assert art.format == "paddle" and art.path.suffix == ".pdmodel"
    assert art.path.with_suffix(".pdiparams").exists()
