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
from edge_kit import arm_budget
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
                 env: arm_emulation.ArmEnv | None = None, log: Callable[[str], None] = lambda _m: None,
                 budget_s: float | None = None) -> None:
    """Add `parity_arm64` to each TFLite artifact's manifest (saved beside the file). `inputs` and
    `ref_outputs` are what the host parity used; the first images of them that fit `budget_s` emulated
    CPU seconds per file are run (edge_kit.arm_budget; default its BUDGET_CPU_S or EDGEKIT_ARM_BUDGET_S).
    Raises ArmEnvError if the environment is missing."""
    env = env or arm_emulation.find_env()
    todo = [a for a in artifacts if a.format == "tflite" and a.manifest.file
            and not _current(a.manifest, env, cpu)]
    if not todo:
        return
    # Dense models cost minutes per emulated image: run the first images that fit the budget (edge_kit.arm_budget).
    plan = arm_budget.plan_images([a.path for a in todo], inputs.shape[0], budget_s)
    n = plan["images"]
    inputs, ref_outputs = inputs[:n], list(ref_outputs)[:n]
    log(f"[{todo[0].model}] arm64 check: {len(todo)} TFLite file(s) on aarch64 kernels (qemu {cpu}, not timed), "
        f"{n} of {plan['available']} parity image(s): {plan['why']}")
    base = {"label": label(cpu), **env.describe(cpu), "reference": reference,
            "images": f"{n} of the host parity's {plan['available']} images", "image_plan": plan, "timed": False}
    # Generous: a loaded machine stretches the wall time; a hung emulator must still end.
    timeout = max(3600.0, 10 * plan.get("estimated_cpu_s_per_image", 0) * n * len(todo))
    try:
        runs, report = arm_emulation.run_tflite(env, [a.path for a in todo], [inputs], cpu=cpu, timeout=timeout)
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
    # parity_task, as the host parity: a user's detector or segmenter is compared as tensors (edgekit does not
    # know its output layout), a zoo model by its task's metric.
    check_tflite(tflites, pipe.ref_inputs("tflite"), pipe.ref_outputs("tflite"), src.parity_task,
                 tuple(src.input_shape[2:]),
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
    """One line for `convert` and `inspect` (the metrics as edge_kit.parity_text words them)."""
    from edge_kit.parity_text import metric_parts

    if not entry:
        return "arm64 kernels: not checked (edgekit convert --arm-check)"
    parts = metric_parts(entry.get("metrics", {}), None, "line")
    host = entry.get("vs_host_x86") or []
    if host:
        parts.append(f"vs x86 LiteRT max|d| {max(h['max_abs'] for h in host):.2e}")
    plan = entry.get("image_plan")
    if plan:
        parts.append(f"on {plan['images']}/{plan['available']} image(s)")
    text = f"{entry.get('label', 'arm64 (emulated)')}: {entry.get('status')}"
    if parts:
        text += ": " + " ".join(parts)
    if entry.get("status") in ("failed", "error") and entry.get("reason"):
        text += f" -- {entry['reason']}"
    return text + " (not timed)"
