"""One parity renderer (edge_kit.parity_text) behind convert, inspect and `edgekit parity`, checked on
manifests real conversions wrote (tests/data/manifests)."""
import json
from pathlib import Path

import pytest

from edge_kit.cli import main
from edge_kit.manifest import Artifact
from edge_kit.parity_text import render

DATA = Path(__file__).resolve().parent / "data" / "manifests"


def _m(name):
    return json.loads((DATA / f"{name}.manifest.json").read_text())


def _art(name):
    return Artifact(Path("/nonexistent") / name, _m(name))


@pytest.mark.parametrize("name,line,cell", [
    ("onnx-cpu-fp32-ok", "parity passed: cos 1.000000 max|d| 4.79e-05 top1 100% top5 100%",
     "passed: top1 100%, cos 1.000000"),
    ("tflite-cpu-fp16-ok-arm64", "parity passed: cos 0.999943 max|d| 1.01e-01 top1 100% top5 100% "
     "(ONNX with fp16-rounded weights: 1.0000)", "passed: top1 100%, cos 0.999943, (fp16-weight baseline 1.000)"),
    ("detection-tflite-cpu-fp32-ok", "parity passed: cos 1.000000 max|d| 9.16e-05 AP50 1.0000 boxes 200/200 "
     "matched, min IoU 1.000", "passed: AP50 1.000, boxes 200/200 matched, cos 1.000000"),
    ("segmentation-tflite-cpu-fp16-ok", "parity passed: cos 0.999993 max|d| 6.38e-03 pixels 99.5975% mIoU 0.9913 "
     "(ONNX with fp16-rounded weights: 0.9893)", "passed: pixels 99.597%, mIoU 0.991, cos 0.999993, "
     "(fp16-weight baseline 0.989)"),
    ("paddlelite-arm-int8-ok", "parity passed: cos 0.974255 max|d| 7.16e-02 per-output max|d| 0.0716 top1 100% "
     "top5 100% [checked: Paddle's simulated-quantization program; ARM int8 kernels not run here]",
     "passed: top1 100%, cos 0.974255"),
    ("paddlelite-opencl-fp32-ok", "parity not run here (opencl kernels cannot run on this x86 machine; x86 twin "
     "MobileNetV3_small_ssld.x86.fp32.nb: passed)", "twin passed"),
    ("tflite-cpu-int8-failed", "parity failed: runtime error: RuntimeError: failed to create XNNPACK runtimeNode "
     "number 205 (TfLiteXNNPackDelegate) failed to prepare.", "failed: "),
    ("paddle-cpu-fp32-ok", "reference", "reference"),
])
def test_line_and_cell(name, line, cell):
    # these are the strings `edgekit convert` and bench_results/parity.md showed before the renderer was one
    assert render(_m(name), "line") == line
    assert render(_art(name).manifest, "cell") == cell


def test_failed_verdict_names_the_failing_check():
    text = render(_m("segmentation-paddlelite-arm-int8"), "line")
    assert text.startswith("parity failed: pixels 73.3723% mIoU 0.5468")
    assert text.endswith("-- pixel_agreement = 0.733723 (needs pixel_agreement >= 0.9); "
                         "miou_vs_reference = 0.546795 (needs miou_vs_reference >= 0.7)")
    checks = render(_m("segmentation-paddlelite-arm-int8"), "checks").splitlines()
    assert checks[0].startswith("  parity: failed -- pixel_agreement = 0.733723")
    assert "    BAD pixel_agreement = 0.733723 (pixel_agreement >= 0.9)" in checks
    with pytest.raises(ValueError, match="parity style"):
        render(_m("onnx-cpu-fp32-ok"), "fancy")


def test_convert_and_inspect_lines_use_it():
    from edge_kit.commands.convert import _line
    from edge_kit.inspect_artifact import render as inspect_render

    art = _art("detection-tflite-cpu-fp32-ok")
    assert _line(art).startswith(f"  ok   tflite     cpu    fp32  {art.manifest.bytes / 1e6:8.2f} MB  {art.path}  "
                                 "parity passed: cos 1.000000 max|d| 9.16e-05 AP50 1.0000")
    info = {"file": "f", "bytes": 1, "manifest": art.manifest, "ops": {}, "runs_here": "yes",
            "sha256_matches_manifest": True}
    assert render(art.manifest, "checks") in inspect_render(info)


def test_parity_table_rows_and_markdown(tmp_path, monkeypatch):
    import edge_kit.convert
    from edge_kit import parity_table

    arts = [_art(n) for n in ("paddle-cpu-fp32-ok", "onnx-cpu-fp32-ok", "paddlelite-x86-fp32-ok",
                              "paddlelite-opencl-fp32-ok", "tflite-cpu-fp32-ok", "paddlelite-arm-int8-failed")]
    monkeypatch.setattr(edge_kit.convert, "convert", lambda name, **kw: arts)   # artifacts as convert returns them
    rows, failed = parity_table.build(["MobileNetV3_small_ssld"])
    cells = rows["MobileNetV3_small_ssld"]
    assert set(cells) == {"onnx/cpu/fp32", "paddlelite/x86/fp32", "paddlelite/opencl/fp32", "tflite/cpu/fp32"}
    assert cells["paddlelite/opencl/fp32"]["summary"] == "twin passed" and failed == []   # int8 is no column
    md, js = parity_table.write(rows, failed, tmp_path, {"paddlelite": "2.13rc0"})
    table = md.read_text().splitlines()
    assert "| MobileNetV3_small_ssld | passed: top1 100%, cos 1.000000 | - | - | twin passed |" in table[-1]
    assert json.loads(js.read_text())["models"] == rows


def test_parity_command_is_registered(capsys):
    with pytest.raises(SystemExit) as done:
        main(["parity", "--help"])
    assert done.value.code == 0 and "parity.md" in capsys.readouterr().out
    assert main(["parity", "--models", "NoSuchNet", "--no-write"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgekit: error:") and "NoSuchNet" in err and len(err.strip().splitlines()) == 1
