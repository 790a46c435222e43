"""The x86 .nb's parity run happens in a child process (edge_kit.conversion.lite_parity): when Paddle-Lite
aborts on a fatal check, that artifact's parity fails with Paddle-Lite's own last words, and edgekit and the
conversion's other artifacts go on. The aborts here are Paddle-Lite's real ones, on a damaged .nb."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edge_kit import cli
from edge_kit.conversion import lite_parity
from edge_kit.errors import ConversionError
from edge_kit.manifest import Artifact, manifest_path, sha256_file


def test_paddle_lite_abort_is_an_error_naming_it(tmp_path):
    """Bytes that are no .nb: Paddle-Lite's loader aborts the process ([F ...] ... cannot be recognized)."""
    nb = tmp_path / "junk.x86.fp32.nb"
    nb.write_bytes(b"\x00not a Paddle-Lite model\x01" * 8)
    np.savez(tmp_path / "parity_inputs.npz", image=np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ConversionError) as info:
        lite_parity.run_nb(nb, tmp_path / "parity_inputs.npz", model="m", stage="paddlelite x86 fp32 parity")
    err = info.value
    assert err.tool == "Paddle-Lite" and err.detail.startswith("crashed: aborted: [F ")
    assert "cannot be recognized" in err.detail and "\n" not in str(err)
    assert not list(tmp_path.glob("*.parity_outputs.npz"))  # nothing left in the stage's scratch dir


@pytest.mark.slow
def test_paddle_lite_abort_fails_only_its_artifact(tiny_paddle_model, tmp_path, monkeypatch, capsys):
    """The x86 .nb's parity child is handed the .nb cut in half (a copy: the file itself stays whole), so
    Paddle-Lite aborts while the ONNX -> TFLite chain converts beside it. In-process this killed edgekit."""
    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / "cache"))  # cold: the .nb's parity really runs
    real, seen = lite_parity.run_nb, []

    def on_a_truncated_copy(nb, inputs_npz, **kw):
        cut = tmp_path / nb.name
        cut.write_bytes(nb.read_bytes()[: nb.stat().st_size // 2])
        seen.append(nb)
        return real(cut, inputs_npz, **kw)

    monkeypatch.setattr(lite_parity, "run_nb", on_a_truncated_copy)
    out = tmp_path / "out"
    code = cli.main(["convert", "--paddle-model", str(tiny_paddle_model), "--to", "paddlelite,onnx,tflite", "-o",
                     str(out)])
    printed = capsys.readouterr().out
    assert code == 3 and len(seen) == 1  # convert's usual failure status; only the x86 .nb's parity ran here
    name = tiny_paddle_model.name
    x86 = Artifact.load(out / name / f"{name}.x86.fp32.nb")
    reason = x86.manifest["parity"]["reason"]
    assert x86.manifest["status"] == "failed" and x86.manifest["parity"]["status"] == "failed"
    assert reason.startswith("runtime error: Paddle-Lite crashed: aborted: [F ") and "Check failed" in reason
    assert x86.manifest["sha256"] == sha256_file(x86.path)  # the .nb itself is kept, as Opt wrote it
    line = next(ln for ln in printed.splitlines() if "FAIL paddlelite x86" in ln)
    assert f"parity failed: {reason}" in line
    assert "edgekit: error: 2 artifact(s) failed: paddlelite/x86/fp32, paddlelite/arm/fp32" in printed
    arm = json.loads(manifest_path(out / name / f"{name}.arm.fp32.nb").read_text())
    assert arm["parity"]["x86_twin"]["status"] == "failed" and arm["status"] == "failed"
    for f in (f"{name}.onnx", f"{name}.fp32.tflite"):  # the other chain: verified and on disk
        art = Artifact.load(out / name / f)
        assert art.ok and art.manifest["parity"]["status"] == "passed", art.manifest["parity"]
        assert art.manifest["sha256"] == sha256_file(art.path)
    assert not list((tmp_path / "cache").rglob("*.parity_outputs.npz"))
