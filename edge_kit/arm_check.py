"""The ARM-kernel check: run TFLite artifacts on aarch64 kernels (emulated, converters.arm_emulation) and
record the result in each manifest as `parity_arm64`, judged against the Paddle reference with the same
task metrics and tolerances as the host parity (edge_kit.parity.compare).

The host parity runs x86 kernels; a phone runs the aarch64 build of the same runtime, whose XNNPACK
kernels are different code (NEON micro-kernels, other tiling and accumulation order). This check executes
those kernels, instruction for instruction, on the parity images. It does not model a phone's speed,
memory or drivers: emulated runs are never timed. A failed ARM check fails the artifact.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from converters import arm_emulation
from edge_kit.manifest import Artifact, Manifest
from edge_kit.parity import compare, tensor_metrics

KEY = "parity_arm64"


def label(cpu: str) -> str:
    return f"arm64 (emulated, qemu {cpu})"


def _current(manifest: Manifest, env: arm_emulation.ArmEnv, cpu: str) -> bool:
    """A result recorded for this very file, environment and CPU model is reused (conversions are cached)."""
    old = manifest.parity_arm64 or {}
    return (old.get("sha256") == manifest.sha256 and old.get("env_id") == env.info.get("id")
            and old.get("cpu") == cpu and old.get("status") in ("passed", "failed"))


def check_tflite(artifacts: list[Artifact], inputs: np.ndarray, ref_outputs, task: str,
                 input_hw: tuple[int, int] | None, reference: str, cpu: str = arm_emulation.DEFAULT_CPU,
                 env: arm_emulation.ArmEnv | None = None, log: Callable[[str], None] = lambda _m: None) -> None:
    """Add `parity_arm64` to each TFLite artifact's manifest (saved beside the file). `inputs` and
    `ref_outputs` are what the host parity used. Raises ArmEnvError if the environment is missing."""
    env = env or arm_emulation.find_env()
    todo = [a for a in artifacts if a.format == "tflite" and a.manifest.file
            and not _current(a.manifest, env, cpu)]
    if not todo:
        return
    log(f"[{todo[0].model}] arm64 check: {len(todo)} TFLite file(s) on aarch64 kernels (qemu {cpu}, not timed)")
    base = {"label": label(cpu), **env.describe(cpu), "reference": reference,
            "images": f"{inputs.shape[0]} parity images (the host parity's)", "timed": False}
    try:
        runs, report = arm_emulation.run_tflite(env, [a.path for a in todo], [inputs], cpu=cpu)
    except arm_emulation.ArmRunError as exc:
        for a in todo:
            # "error", not "failed": not reused from the cache, so a transient cause (a timeout) is retried.
            _record(a, {**base, "status": "error", "reason": f"aarch64 run failed: {exc}"})
        return
    from edge_kit.infer import run_tflite

    for a in todo:
        got = runs[Path(a.path)]
        result = compare(task, a.precision, ref_outputs, got, graph=a.manifest.graph or "raw", input_hw=input_hw)
        entry = {**base, **result, "machine": report.get("machine"), "hwcaps": report.get("hwcaps"),
                 "xnnpack": report.get("xnnpack")}
        # How far the ARM kernels are from this machine's x86 kernels on the same file (information only:
        # the gate is the reference, as for the host parity).
        host = run_tflite(a.path, [inputs])
        entry["vs_host_x86"] = [tensor_metrics(np.concatenate([h[j].ravel() for h in host]),
                                               np.concatenate([g[j].ravel() for g in got]))
                                for j in range(len(host[0]))] if len(host[0]) == len(got[0]) else None
        _record(a, entry)


def check_conversion(pipe, artifacts: list[Artifact], env: arm_emulation.ArmEnv, log: Callable[[str], None]) -> None:
    """convert(..., arm_check=True): every TFLite file the conversion returns (fp32, fp16, int8), in one
    emulated process, on the images and reference of the host parity (`pipe`: edge_kit.conversion.stages.Pipeline)."""
    tflites = [a for a in artifacts if a.format == "tflite" and a.manifest.file]
    if not tflites:
        return
    src = pipe.src
    check_tflite(tflites, pipe.ref_inputs("tflite"), pipe.ref_outputs("tflite"), src.task, tuple(src.input_shape[2:]),
                 reference="Paddle Inference on the source program" if src.kind != "onnx"
                 else "onnxruntime on the source ONNX", env=env, log=log)


def _record(a: Artifact, entry: dict) -> None:
    """Save the entry; the artifact is ok only if the host parity and the ARM check both hold (recomputed,
    so a re-check that passes after a fixed environment clears an earlier ARM failure)."""
    entry["sha256"] = a.manifest.sha256
    a.manifest.parity_arm64 = entry
    host_ok = a.manifest.parity_status != "failed"
    a.manifest.status = "ok" if host_ok and entry["status"] == "passed" else "failed"
    a.save()


def summary(entry: dict | None) -> str:
    """One line for `convert` and `inspect`."""
    if not entry:
        return "arm64 kernels: not checked (edgekit convert --arm-check)"
    m = entry.get("metrics", {})
    parts = []
    if m.get("outputs"):
        o = min(m["outputs"], key=lambda o: o["cosine"])
        parts.append(f"cos {o['cosine']:.6f} max|d| {o['max_abs']:.2e}")
    for k, name in (("top1_agreement", "top1"), ("top5_agreement", "top5")):
        if k in m:
            parts.append(f"{name} {m[k]:.0%}")
    if "pixel_agreement" in m:
        parts.append(f"pixels {m['pixel_agreement']:.4%}")
    if "ap50_vs_reference" in m:
        parts.append(f"AP50 {m['ap50_vs_reference']:.4f}")
    host = entry.get("vs_host_x86") or []
    if host:
        parts.append(f"vs x86 LiteRT max|d| {max(h['max_abs'] for h in host):.2e}")
    text = f"{entry.get('label', 'arm64 (emulated)')}: {entry.get('status')}"
    if parts:
        text += ": " + " ".join(parts)
    if entry.get("status") in ("failed", "error") and entry.get("reason"):
        text += f" -- {entry['reason']}"
    return text + " (not timed)"
