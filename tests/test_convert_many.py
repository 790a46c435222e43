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


def test_schedule_starts_the_largest_cost_first_and_keeps_ties_in_order():
    costs = {"a": (1.0,), "b": (5.0,), "c": (3.0,), "d": (5.0,), "e": (0.5,)}
    assert many.schedule(["a", "b", "c", "a", "d", "e"], costs) == ["b", "d", "c", "a", "e"]


def test_static_cost_ranks_the_zoo_by_input_graphs_and_size(tmp_path, monkeypatch):
    """No record in the cache: detectors (608 px, two graphs), then segmenters (512 px, two graphs), then
    classifiers by the seed's file size; an unknown name last."""
    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path))
    order = many.schedule(["MobileNetV2", "FastSCNN", "YOLOv3-MobileNetV1", "ShuffleNetV2", "MobileNetV2",
                           "no-such-model", "MobileNetV3_large_ssld", "YOLOv3-MobileNetV3_large"])
    assert order == ["YOLOv3-MobileNetV3_large", "YOLOv3-MobileNetV1", "FastSCNN", "MobileNetV3_large_ssld",
                     "MobileNetV2", "ShuffleNetV2", "no-such-model"]


def _manifest(root, kind, entry, name, model, fmt, target, precision, seconds, verify=0.0, graph="deploy", age=0):
    import os
    import time

    folder = root / "artifacts" / kind / entry
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.manifest.json"
    path.write_text(json.dumps({"model": model, "format": fmt, "target": target, "precision": precision,
                                "graph": graph, "seconds": seconds, "verify_seconds": verify}))
    when = time.time() - age
    os.utime(path, (when, when))


def _recorded_conversion(root, model, ref, nb, onnx, tfl, age=0, entry="e"):
    _manifest(root, "reference", f"{entry}-ref", "reference.pdmodel", model, "paddle", "cpu", "fp32", ref, age=age)
    _manifest(root, "paddlelite", f"{entry}-nb", f"{model}.x86.fp32.nb", model, "paddlelite", "x86", "fp32", nb[0],
              nb[1], age=age)
    _manifest(root, "onnx", f"{entry}-onnx", f"{model}.onnx", model, "onnx", "cpu", "fp32", onnx[0], onnx[1], age=age)
    _manifest(root, "tflite", f"{entry}-tfl", f"{model}.fp32.tflite", model, "tflite", "cpu", "fp32", tfl[0], tfl[1],
              age=age)


def test_recorded_seconds_sum_the_latest_manifests_of_each_stage(tmp_path):
    from edge_kit.conversion import cost

    _recorded_conversion(tmp_path, "M", 10, (1, 2), (3, 4), (5, 6), age=100, entry="old")
    _recorded_conversion(tmp_path, "M", 20, (1, 1), (2, 2), (3, 3), entry="new")      # the newest counts
    _manifest(tmp_path, "reference", "new-raw", "reference.pdmodel", "M", "paddle", "cpu", "fp32", 25, graph="raw")
    # what does not count: the arm .nb, the fp16 TFLite, another model
    _manifest(tmp_path, "paddlelite", "arm", "M.arm.fp32.nb", "M", "paddlelite", "arm", "fp32", 500)
    _manifest(tmp_path, "tflite", "new-tfl", "M.fp16.tflite", "M", "tflite", "cpu", "fp16", 500)
    _recorded_conversion(tmp_path, "Other", 1, (1, 1), (1, 1), (1, 1))
    # a model with only a reference and an ONNX (converted --to onnx once) has no comparable record
    _manifest(tmp_path, "reference", "half", "reference.pdmodel", "Half", "paddle", "cpu", "fp32", 9)
    _manifest(tmp_path, "onnx", "half", "Half.onnx", "Half", "onnx", "cpu", "fp32", 9)
    (tmp_path / "artifacts" / "onnx" / "bad").mkdir()
    (tmp_path / "artifacts" / "onnx" / "bad" / "M.onnx.manifest.json").write_text("{not json")
    got = cost.recorded_seconds(["M", "Half", "Missing"], root=tmp_path / "artifacts")
    # the longest reference graph (25), then 1+1, 2+2, 3+3
    assert got == {"M": 37.0}


def test_expected_costs_use_records_only_when_every_model_has_one(tmp_path):
    from edge_kit.conversion import cost

    root = tmp_path / "artifacts"
    # recorded: the classifier was slower than the detector (say, trained weights on a loaded machine)
    _recorded_conversion(tmp_path, "MobileNetV2", 90, (1, 1), (1, 1), (1, 1), entry="a")
    _recorded_conversion(tmp_path, "YOLOv3-MobileNetV1", 30, (1, 1), (1, 1), (1, 1), entry="b")
    both = {"MobileNetV2": "MobileNetV2", "YOLOv3-MobileNetV1": "YOLOv3-MobileNetV1"}
    assert many.schedule(both, cost.expected_costs(both, root)) == ["MobileNetV2", "YOLOv3-MobileNetV1"]
    three = {**both, "ShuffleNetV2": "ShuffleNetV2"}  # no record: the static proxy for all three
    assert many.schedule(three, cost.expected_costs(three, root)) == ["YOLOv3-MobileNetV1", "MobileNetV2",
                                                                      "ShuffleNetV2"]


def test_results_and_printed_blocks_keep_the_users_order(tmp_path, monkeypatch):
    """The detector starts first (largest cost) but the user named it second: its outcome and its on_done
    call come second. A block is released as soon as every model named before it is done: MobileNetV2's
    is printed while the detector is still converting."""
    import threading

    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path))
    started, done, v2_printed = [], [], threading.Event()

    def fake_convert(model=None, **kw):
        started.append(model)
        if model == "YOLOv3-MobileNetV1":
            # returns only once MobileNetV2's block was printed (or says it never was)
            return run.Conversion([f"{model} (MobileNetV2 printed first: {v2_printed.wait(30)})"])
        return run.Conversion([model])

    monkeypatch.setattr(run, "convert", fake_convert)

    def on_done(outcome):
        done.append(outcome.model)
        if outcome.model == "MobileNetV2":
            v2_printed.set()

    user = ["MobileNetV2", "YOLOv3-MobileNetV1", "ShuffleNetV2"]
    outcomes = many.convert_many(user, jobs=2, on_done=on_done)
    assert set(started) == set(user)
    assert [o.model for o in outcomes] == user and done == user
    assert outcomes[1].conversion == ["YOLOv3-MobileNetV1 (MobileNetV2 printed first: True)"]
    # one at a time: the detector first and done first, still reported second
    started.clear()
    done.clear()
    v2_printed.set()
    outcomes = many.convert_many(user, jobs=1, on_done=on_done)
    assert started == ["YOLOv3-MobileNetV1", "MobileNetV2", "ShuffleNetV2"]
    assert [o.model for o in outcomes] == user and done == user


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
    assert [e.split(":")[2].strip() for e in errors] == ["NoSuchModel", "AlsoMissing"]  # the order given
    assert "2 models, 2 at a time" in r.stdout and "2 not converted" in r.stdout
    r = run_cli("convert", "MobileNetV2", "ShuffleNetV2", "--paddle-model", str(tmp_path))
    assert r.returncode != 0 and "one at a time" in r.stderr
    r = run_cli("convert", "MobileNetV2", "ShuffleNetV2", "--jobs", "0")
    assert r.returncode != 0 and "--jobs must be at least 1" in r.stderr
