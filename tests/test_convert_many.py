"""Several conversions side by side (edge_kit.conversion.many, `edgekit convert A B --jobs N`)."""
from __future__ import annotations

import json

from edge_kit.conversion import many, run
from tests.conftest import run_cli
from tests.test_convert import _onnx_model

# What differs between two conversions of the same model by design: timings, and Lite's Opt writes 4
# bytes of its .nb header differently on every run (README), so a .nb's bytes and hash do.
VOLATILE = {"seconds", "verify_seconds"}


def _stable(manifest: dict) -> dict:
    m = {k: v for k, v in manifest.items() if k not in VOLATILE}
    if m.get("format") == "paddlelite":
        m.pop("sha256", None)
    return m


def _published(out) -> dict:
    """Every file convert wrote under out/, by relative path: manifests (without timings) and hashes of the rest."""
    from edge_kit.manifest import sha256_file

    found = {}
    for f in sorted(out.rglob("*")):
        if f.is_file():
            rel = str(f.relative_to(out))
            if f.name.endswith(".manifest.json"):
                found[rel] = _stable(json.loads(f.read_text()))
            elif f.suffix != ".nb":
                found[rel] = sha256_file(f)
    return found


def test_schedule_starts_big_inputs_first_and_keeps_the_rest_in_order():
    order = many.schedule(["MobileNetV2", "FastSCNN", "YOLOv3-MobileNetV1", "ShuffleNetV2", "MobileNetV2",
                           "no-such-model", "YOLOv3-MobileNetV3_large"])
    assert order == ["YOLOv3-MobileNetV1", "YOLOv3-MobileNetV3_large", "FastSCNN", "MobileNetV2", "ShuffleNetV2",
                     "no-such-model"]


def test_side_by_side_makes_what_one_after_another_makes(tmp_path, monkeypatch, tiny_paddle_model):
    """Two user models converted concurrently publish the same files and manifests as one after another
    (each into a cold cache of its own, so every stage really runs in both)."""
    onnx_file = _onnx_model(tmp_path / "tiny.onnx")
    sources = [{"paddle_model": str(tiny_paddle_model)}, {"onnx": str(onnx_file)}]
    kwargs = dict(to=("onnx", "tflite"), precisions=("fp32",), log=lambda line: None)
    results = {}
    for jobs in (1, 2):
        monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / f"cache{jobs}"))
        out = tmp_path / f"out{jobs}"
        outcomes = many.convert_many(sources, jobs=jobs, out_dir=str(out), **kwargs)
        assert [o.model for o in outcomes] == [str(tiny_paddle_model), str(onnx_file)]
        assert all(o.ok and all(a.ok for a in o.conversion) for o in outcomes), [o.error for o in outcomes]
        results[jobs] = _published(out)
    assert results[1] == results[2]
    assert any(k.endswith(".tflite") for k in results[2]) and any(k.endswith(".onnx") for k in results[2])


def test_a_crash_in_one_model_loses_nothing_of_the_other(tmp_path, monkeypatch, tiny_paddle_model):
    """One conversion dies with an unexpected exception (a bug), another with a user error: the good
    model is still converted and published, and each failure is one line naming its model."""
    real = run.convert

    def crashing(model=None, **kw):
        if model == "Boom":
            raise RuntimeError("simulated bug in a stage")
        return real(model, **kw)

    monkeypatch.setattr(run, "convert", crashing)
    done = []
    out = tmp_path / "out"
    outcomes = many.convert_many(["Boom", {"paddle_model": str(tiny_paddle_model)}, "NoSuchModel"], jobs=2,
                                 on_done=done.append, to=("onnx",), out_dir=str(out), log=lambda line: None)
    boom, good, unknown = outcomes
    assert boom.error == "RuntimeError: simulated bug in a stage" and boom.conversion is None
    assert not unknown.ok and "NoSuchModel" in unknown.error and "\n" not in unknown.error
    assert good.ok and all(a.ok for a in good.conversion)
    assert {o.model for o in done} == {"Boom", "NoSuchModel", str(tiny_paddle_model)}
    from edge_kit.manifest import manifest_path

    published = list(out.rglob("*.onnx"))
    assert len(published) == 1 and json.loads(manifest_path(published[0]).read_text())["status"] == "ok"


def test_cli_several_models_one_error_line_each_and_a_summary(tmp_path):
    """The CLI with several names: a bad name is one error line and a non-zero exit, and it is refused
    with --paddle-model (several models are zoo names)."""
    r = run_cli("convert", "NoSuchModel", "AlsoMissing", "--jobs", "2", "-o", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("edgekit: error:")]
    assert len(errors) == 2 and {e.split(":")[2].strip() for e in errors} == {"NoSuchModel", "AlsoMissing"}
    assert "2 models, 2 at a time" in r.stdout and "2 not converted" in r.stdout
    r = run_cli("convert", "MobileNetV2", "ShuffleNetV2", "--paddle-model", str(tmp_path))
    assert r.returncode != 0 and "one at a time" in r.stderr
    r = run_cli("convert", "MobileNetV2", "ShuffleNetV2", "--jobs", "0")
    assert r.returncode != 0 and "--jobs must be at least 1" in r.stderr
