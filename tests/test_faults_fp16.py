"""Issue 12: the arm fp16 .nb really holds fp16 kernels (it held none: Opt's fp16 flag was set after the
valid places, which Lite 2.13 ignores), and an fp16 .nb without them is a failed artifact."""
from __future__ import annotations

from edge_kit.convert import convert
from edge_kit.inspect_artifact import inspect


def test_arm_fp16_nb_has_fp16_kernels(tiny_paddle_model):
    arts = convert(paddle_model=str(tiny_paddle_model), to=("paddlelite",), precisions=("fp32", "fp16"),
                   log=lambda m: None)
    nb = {(a.target, a.precision): a for a in arts if a.format == "paddlelite"}
    fp16, fp32 = nb[("arm", "fp16")], nb[("arm", "fp32")]
    assert fp16.manifest["kernel_precisions"].get("fp16", 0) > 0 and fp16.ok
    assert "fp16" not in fp32.manifest["kernel_precisions"] and fp32.manifest["kernel_precisions"]["fp32"] > 0
    assert fp16.manifest["sha256"] != fp32.manifest["sha256"]
    # the weights stay fp32 inside (Lite converts them at load), so the sizes are within a few percent
    assert abs(fp16.manifest["bytes"] / fp32.manifest["bytes"] - 1) < 0.2  # MobileNetV3_small: +0.14%
    assert inspect(str(fp16.path))["kernel_precisions"]["fp16"] == fp16.manifest["kernel_precisions"]["fp16"]


def test_fp16_nb_without_fp16_kernels_is_failed(tiny_paddle_model, monkeypatch):
    import shutil

    import edge_kit.conversion.stages as pipeline
    from edge_kit.conversion.cache import entry_dir

    real, touched = pipeline.reusable, []

    def rebuild_lite(kind, key, expect, log=None):  # rebuild the .nb entries (and drop them afterwards)
        if kind != "paddlelite":
            return real(kind, key, expect, log)
        touched.append(entry_dir(kind, key))
        shutil.rmtree(touched[-1], ignore_errors=True)
        return False

    monkeypatch.setattr(pipeline.paddle_lite, "nb_kernel_precisions", lambda p: {"fp32": 9})
    monkeypatch.setattr(pipeline, "reusable", rebuild_lite)
    try:
        arts = convert(paddle_model=str(tiny_paddle_model), to=("paddlelite",), precisions=("fp16",),
                       log=lambda m: None)
    finally:
        for d in touched:
            shutil.rmtree(d, ignore_errors=True)
    (fp16,) = [a for a in arts if a.format == "paddlelite" and a.target == "arm"]
    assert fp16.manifest["status"] == "failed" and "no fp16 kernel" in fp16.manifest["parity"]["reason"]
