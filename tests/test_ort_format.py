"""The ORT format (.ort, ONNX Runtime Mobile's): one table row (edge_kit.formats), one converter module
(converters.ort_format), one runtime module (edge_kit.runtimes.ort); the pipeline's generic from-ONNX stage
makes and verifies it. Opt-in: not in convert's default --to, not in bench's default backends."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli
from edge_kit import formats
from edge_kit.bench.store import ResultStore
from edge_kit.cli import main
from edge_kit.runtimes import BackendError, open_runtime
from tiny_onnx import tiny_vision_onnx


@pytest.fixture(scope="module")
def tiny_ort(tmp_path_factory):
    """convert(--onnx tiny, to ort): the reference, the ONNX artifact and the .ort, published to a folder."""
    from edge_kit.convert import convert

    src = tiny_vision_onnx(tmp_path_factory.mktemp("src") / "tiny.onnx")
    arts = convert(onnx=str(src), to=("ort",), out_dir=str(tmp_path_factory.mktemp("out")), log=lambda m: None)
    return {a.format if a.manifest.parity.get("status") != "reference" else "reference": a for a in arts}


def test_ort_is_opt_in_everywhere():
    assert "ort" in formats.CONVERT_FORMATS and "ort" not in formats.DEFAULT_CONVERT_FORMATS
    assert formats.ONNX_DERIVED == ("ort",) and not formats.runtime("ort").default
    from edge_kit.cli import build_parser

    assert build_parser().parse_args(["convert", "x"]).to == "paddlelite,onnx,tflite"
    import inspect

    from edge_kit.convert import convert
    assert inspect.signature(convert).parameters["to"].default == ("paddlelite", "onnx", "tflite")


def test_from_onnx_formats_carry_the_onnx_graph():
    """The generic stage verifies against the ONNX artifact's reference graph (raw for detectors)."""
    for name in formats.ONNX_DERIVED:
        assert formats.fmt(name).graph == formats.fmt("onnx").graph


def test_a_dynamic_batch_stays_dynamic_in_the_ort(tmp_path):
    from edge_kit.convert import convert

    src = tiny_vision_onnx(tmp_path / "dyn.onnx", dynamic_batch=True)
    (ort,) = [a for a in convert(onnx=str(src), to=("ort",), log=lambda m: None) if a.format == "ort"]
    assert ort.ok and ort.manifest.inputs[0]["shape"] == [-1, 3, 32, 32]
    assert ort.manifest.accepts["shape"] == [-1, 3, 32, 32] and "any batch" in ort.manifest.accepts["note"]


def test_bench_default_backends_leave_ort_out(tmp_path):
    """No --backend: every host backend is planned but ort (each cell fails at resolve: nothing converts)."""
    from edge_kit.bench import open_device, run_bench

    device = open_device("host")
    assert "ort" in device.backends()   # available here: --backend ort works
    summary = run_bench(["MobileNetV3_small_ssld"], device, results_dir=tmp_path, progress=False,
                        provider=lambda model, wants: {w: "not converted in this test" for w in wants})
    planned = {key.split("|")[2] for key, _ in summary.failed}
    assert planned == {"paddle", "paddlelite", "onnxruntime", "tflite"}


def test_convert_makes_a_verified_ort_from_the_onnx_artifact(tiny_ort):
    ort_art, onnx_art = tiny_ort["ort"], tiny_ort["onnx"]
    m = ort_art.manifest
    assert ort_art.ok and ort_art.path.suffix == ".ort" and ort_art.path.is_file()
    assert (m.format, m.target, m.precision, m.status) == ("ort", "cpu", "fp32", "ok")
    assert m.parity["status"] == "passed" and m.runs_here is True
    # the same gates as the ONNX artifact it was made from, and made from exactly that file
    assert [c["rule"] for c in m.parity["checks"]] == [c["rule"] for c in onnx_art.manifest.parity["checks"]]
    assert m["made_from"] == {"format": "onnx", "file": onnx_art.path.name, "sha256": onnx_art.manifest.sha256}
    assert m.inputs == [{"name": "image", "shape": [1, 3, 32, 32], "dtype": "float32"}]
    assert [o["name"] for o in m.outputs] == ["logits", "label"]
    # onnxruntime's own optimizer ran: Conv + Clip became one contrib FusedConv; the minimal-build op list came along
    assert m["ops"].get("com.microsoft.FusedConv") and "Gemm" in m["required_operators"]["ai.onnx 13"]
    assert m.tools["onnxruntime"] and m["ort_conversion"]["target_platform"] == "arm"


def test_the_ort_runtime_gives_the_onnx_numbers(tiny_ort):
    x = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    want = open_runtime("onnxruntime", tiny_ort["onnx"].path).infer({"image": x})
    rt = open_runtime("ort", tiny_ort["ort"].path.read_bytes())   # bytes: loaded as ORT because the class says so
    got = rt.infer({"image": x})
    assert list(got) == ["logits", "label"]
    np.testing.assert_allclose(got["logits"], want["logits"], rtol=1e-4, atol=1e-5)
    assert np.array_equal(got["label"], want["label"])
    with pytest.raises(BackendError, match="ort: cannot load"):   # an ONNX file is not an ORT-format model
        open_runtime("ort", tiny_ort["onnx"].path)


def test_inspect_and_bench_an_ort_file(tiny_ort, tmp_path, capsys):
    path = str(tiny_ort["ort"].path)
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert "ort cpu fp32" in out and "runs here: yes: onnxruntime .ort on this machine" in out
    assert "com.microsoft.FusedConv x1" in out and "sha256 matches the manifest" in out
    rc = main(["bench", "--artifact", path, "--threads", "1", "--warmup", "1", "--repeats", "3",
               "--results-dir", str(tmp_path), "--quiet"])
    assert rc == 0, capsys.readouterr()
    (rec,) = ResultStore(tmp_path).records()
    assert (rec.backend, rec.precision, rec.artifact["format"]) == ("ort", "fp32", "ort")
    assert rec.median_ms > 0


def test_a_damaged_ort_file_is_a_one_line_error(tiny_ort, tmp_path, capsys):
    bad = tmp_path / "bad.ort"
    bad.write_bytes(tiny_ort["ort"].path.read_bytes()[:400])
    assert main(["inspect", str(bad)]) != 0
    err = capsys.readouterr().err
    assert "cannot read it as ort" in err and err.count("\n") == 1


@pytest.mark.slow
def test_mobilenet_to_onnx_and_ort_from_the_cli(tmp_path):
    """The real model: `convert --to onnx,ort` passes the fp32 gates against the Paddle reference, and
    `bench MODEL --backend ort` times the .ort through the runtime layer."""
    proc = run_cli("convert", "MobileNetV3_small_ssld", "--to", "onnx,ort", "-o", str(tmp_path / "out"), "--json")
    assert proc.returncode == 0, proc.stderr
    arts = {a["format"]: a for a in json.loads(proc.stdout)["artifacts"]}
    assert set(arts) == {"paddle", "onnx", "ort"}   # no .nb, no TFLite: only what was asked
    ort = arts["ort"]
    assert ort["status"] == "ok" and ort["parity"]["status"] == "passed"
    assert ort["parity"]["reference"] == "Paddle Inference on the source program"
    metrics = ort["parity"]["metrics"]
    assert metrics["top1_agreement"] == 1.0 and metrics["outputs"][0]["cosine"] >= 0.99999
    proc = run_cli("bench", "MobileNetV3_small_ssld", "--backend", "ort", "--threads", "1", "--warmup", "1",
                   "--repeats", "3", "--results-dir", str(tmp_path / "res"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    (rec,) = ResultStore(tmp_path / "res").records()
    assert rec.backend == "ort" and rec.artifact["sha256"] == ort["sha256"]
