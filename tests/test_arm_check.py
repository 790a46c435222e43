"""The ARM-kernel check: TFLite artifacts run on aarch64 kernels (tflite-runtime's ARM build) under qemu,
judged against the Paddle reference like the host parity. Needs scripts/setup_arm_env.sh (setup.sh runs
it); without it these tests skip, except in CI, where a missing environment is a failure."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from converters import arm_emulation
from edge_kit import arm_check
from edge_kit.errors import EdgekitError
from edge_kit.manifest import Artifact, manifest_path
from conftest import run_cli


@pytest.fixture(scope="module")
def arm_env():
    try:
        return arm_emulation.find_env()
    except arm_emulation.ArmEnvError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def tiny_arm_converted(tiny_paddle_model, arm_env, tmp_path_factory):
    out = tmp_path_factory.mktemp("arm_out")
    r = run_cli("convert", "--paddle-model", str(tiny_paddle_model), "--to", "onnx,tflite",
                "--precision", "fp32,fp16", "--arm-check", "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    return out / tiny_paddle_model.name, r.stdout


def test_convert_records_arm64_parity_and_inspect_shows_it(tiny_arm_converted, tiny_paddle_model):
    folder, stdout = tiny_arm_converted
    assert stdout.count("arm64 (emulated, qemu cortex-a76): passed") == 2, stdout
    for precision in ("fp32", "fp16"):
        f = folder / f"{tiny_paddle_model.name}.{precision}.tflite"
        m = json.loads(manifest_path(f).read_text())
        arm = m["parity_arm64"]
        assert arm["status"] == "passed" and m["status"] == "ok"
        assert arm["label"] == "arm64 (emulated, qemu cortex-a76)" and arm["cpu"] == "cortex-a76"
        assert arm["machine"] == "aarch64" and "asimd" in arm["hwcaps"] and arm["xnnpack"] is True
        assert arm["timed"] is False and arm["sha256"] == m["sha256"]
        assert "tflite-runtime 2.14.0" in arm["runtime"] and "qemu-aarch64" in arm["emulator"]
        # The ARM kernels computed their own numbers: close to x86's, but not bit-identical copies.
        host = arm["vs_host_x86"][0]
        assert host["cosine"] > 0.99999 and host["max_abs"] < 1e-3 * max(1.0, host["ref_max_abs"])
        assert arm["metrics"]["top1_agreement"] == 1.0
    r = run_cli("inspect", str(folder / f"{tiny_paddle_model.name}.fp32.tflite"))
    assert r.returncode == 0, r.stderr
    assert "arm64 (emulated, qemu cortex-a76): passed: cos" in r.stdout and "(not timed)" in r.stdout


def _negate_first_weight(src, dst):
    """Copy a TFLite file with its fully connected layer's weights negated (found by their exact bytes):
    the file still loads and runs, and computes something else."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(src))
    data = bytearray(src.read_bytes())
    for d in interp.get_tensor_details():
        if len(d["shape"]) == 2 and d["dtype"] == np.float32 and min(d["shape"]) > 1:
            try:
                w = interp.get_tensor(d["index"])
            except ValueError:
                continue
            at = data.find(w.tobytes())
            if at >= 0 and np.abs(w).max() > 0:
                data[at:at + w.nbytes] = (-w).tobytes()
                dst.write_bytes(bytes(data))
                return
    raise AssertionError("no weight matrix found to break")


def test_a_wrong_arm_only_result_fails_the_artifact(tiny_arm_converted, tiny_paddle_model, tmp_path, monkeypatch):
    """Only the aarch64 run is handed a broken weight; the host parity (x86 kernels) sees the real file.
    The check must compare the ARM run's own outputs with the reference and fail the artifact; a check that
    copied the host's numbers, or compared the ARM run with itself, would pass."""
    from edge_kit.convert import resolve_source
    from edge_kit.conversion.stages import Pipeline

    folder, _ = tiny_arm_converted
    name = f"{tiny_paddle_model.name}.fp32.tflite"
    shutil.copy2(folder / name, tmp_path / name)
    shutil.copy2(manifest_path(folder / name), manifest_path(tmp_path / name))
    art = Artifact.load(tmp_path / name)
    del art.manifest["parity_arm64"]  # as a fresh conversion would have it
    src = resolve_source(paddle_model=str(tiny_paddle_model))
    pipe = Pipeline(src, lambda m: None)
    monkeypatch.setattr(arm_emulation, "stage_model", _negate_first_weight)
    arm_check.check_tflite([art], pipe.ref_inputs("tflite"), pipe.ref_outputs("tflite"), src.task,
                           tuple(src.input_shape[2:]), reference="Paddle Inference on the source program")
    saved = Artifact.load(tmp_path / name).manifest
    assert saved["parity"]["status"] == "passed"  # x86 kernels on the real file
    assert saved["parity_arm64"]["status"] == "failed" and saved["status"] == "failed"
    assert "cosine" in saved["parity_arm64"]["reason"]
    assert saved["parity_arm64"]["vs_host_x86"][0]["cosine"] < 0.99
    # A recorded result for the same file, environment and CPU is reused, not re-run.
    monkeypatch.setattr(arm_emulation, "run_tflite", lambda *a, **k: pytest.fail("re-ran a recorded check"))
    arm_check.check_tflite([Artifact.load(tmp_path / name)], pipe.ref_inputs("tflite"), pipe.ref_outputs("tflite"),
                           src.task, tuple(src.input_shape[2:]), reference="-")


def test_missing_arm_environment_is_a_clear_error(tmp_path, monkeypatch):
    from edge_kit.convert import convert

    monkeypatch.setenv("EDGEKIT_ARM_ENV", str(tmp_path / "none"))
    with pytest.raises(EdgekitError, match="setup_arm_env.sh"):  # before any conversion work
        convert("MobileNetV3_small_ssld", to=("tflite",), arm_check=True)
    r = run_cli("convert", "MobileNetV3_small_ssld", "--to", "tflite", "--arm-check",
                env={"EDGEKIT_ARM_ENV": str(tmp_path / "none")})
    assert r.returncode == 2 and "no ARM check environment" in r.stderr and "Traceback" not in r.stderr


def test_an_aarch64_runtime_error_fails_the_artifact_and_is_retried(tiny_arm_converted, tiny_paddle_model, tmp_path,
                                                                    monkeypatch):
    """The emulated runtime rejects the file it is handed: the artifact fails with the runtime's words, and the
    entry is an error (not a recorded verdict), so the next conversion tries again."""
    folder, _ = tiny_arm_converted
    name = f"{tiny_paddle_model.name}.fp32.tflite"
    shutil.copy2(folder / name, tmp_path / name)
    shutil.copy2(manifest_path(folder / name), manifest_path(tmp_path / name))
    art = Artifact.load(tmp_path / name)
    del art.manifest["parity_arm64"]
    monkeypatch.setattr(arm_emulation, "stage_model", lambda src, dst: dst.write_bytes(b"not a flatbuffer" * 64))
    x = np.zeros((1, 3, 64, 64), np.float32)
    arm_check.check_tflite([art], x, [[np.zeros((1, 10), np.float32)]], "classification", (64, 64), reference="-")
    saved = Artifact.load(tmp_path / name).manifest
    assert saved["status"] == "failed" and saved["parity_arm64"]["status"] == "error"
    assert "aarch64 run" in saved["parity_arm64"]["reason"]
    assert not arm_check._current(saved, arm_emulation.find_env(), arm_emulation.DEFAULT_CPU)
