"""The user-supplied on-device benchmark binaries: where they are, whether they fit the phone, and
the argv that runs them.

Lookup order: --tool-dir, env EDGEKIT_TOOL_DIR, then ~/.config/edgekit/tools.json
({"tool_dir": DIR} and/or {"benchmark_bin": FILE, "benchmark_model": FILE}).
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edge_kit import formats
from edge_kit.errors import EdgekitError

TOOL_FOR_BACKEND = {r.name: r.phone_tool for r in formats.RUNTIMES if r.phone_tool}

# Android ABI -> (EI_CLASS, e_machine)
ABI_ELF = {
    "arm64-v8a": (2, 183),
    "armeabi-v7a": (1, 40),
    "armeabi": (1, 40),
    "x86_64": (2, 62),
    "x86": (1, 3),
}
MACHINE_NAMES = {183: "aarch64", 40: "arm", 62: "x86-64", 3: "x86", 243: "riscv"}


class ToolError(EdgekitError):
    pass


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "edgekit" / "tools.json"


def locate_tools(tool_dir: Optional[os.PathLike] = None, config: Optional[os.PathLike] = None) -> dict[str, Path]:
    """-> {tool name: path} for the tools that exist. Raises ToolError if --tool-dir is given but
    missing (a typo there must not silently mean 'no tools')."""
    found: dict[str, Path] = {}
    dirs: list[Path] = []
    if tool_dir:
        if not Path(tool_dir).is_dir():
            raise ToolError(f"--tool-dir {tool_dir} is not a directory")
        dirs.append(Path(tool_dir))
    if os.environ.get("EDGEKIT_TOOL_DIR"):
        dirs.append(Path(os.environ["EDGEKIT_TOOL_DIR"]))
    cfg = Path(config) if config else config_path()
    if cfg.is_file():
        try:
            data = json.loads(cfg.read_text())
        except (OSError, ValueError) as e:
            raise ToolError(f"cannot read {cfg}: {e}") from e
        for name in TOOL_FOR_BACKEND.values():
            if data.get(name) and name not in found and Path(data[name]).expanduser().is_file():
                found[name] = Path(data[name]).expanduser()
        if data.get("tool_dir"):
            dirs.append(Path(data["tool_dir"]).expanduser())
    for d in dirs:
        for name in TOOL_FOR_BACKEND.values():
            if name not in found and (d / name).is_file():
                found[name] = d / name
    return found


def missing_tools_hint() -> str:
    return ("pass --tool-dir DIR holding Android arm64 builds of Paddle-Lite's benchmark_bin and/or TFLite's "
            f"benchmark_model (or set EDGEKIT_TOOL_DIR, or write {config_path()}); see README")


def elf_identity(path: os.PathLike) -> tuple[int, int]:
    """(EI_CLASS, e_machine) of an ELF file; ToolError if it is not ELF."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as e:
        raise ToolError(f"cannot read {path}: {e}") from e
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise ToolError(f"{path} is not an ELF binary (starts {head[:8]!r}); supply the Android build of the tool")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise ToolError(f"{path} has a corrupt ELF header (class {ei_class}, data {ei_data})")
    (machine,) = struct.unpack("<H" if ei_data == 1 else ">H", head[18:20])
    return ei_class, machine


def check_android_elf(path: os.PathLike, abi: str) -> None:
    """Refuse a binary the phone cannot execute (e.g. the host x86-64 build) before pushing it."""
    if abi not in ABI_ELF:
        raise ToolError(f"unknown Android ABI {abi!r}; known: {', '.join(ABI_ELF)}")
    want_class, want_machine = ABI_ELF[abi]
    ei_class, machine = elf_identity(path)
    if (ei_class, machine) != (want_class, want_machine):
        got = f"{MACHINE_NAMES.get(machine, f'e_machine {machine}')} ELF{32 if ei_class == 1 else 64}"
        want = f"{MACHINE_NAMES[want_machine]} ELF{32 if want_class == 1 else 64}"
        raise ToolError(f"{path} is a {got} binary but the phone's ABI {abi} needs {want}")


# ------------------------------------------------------------------ command builders
@dataclass(frozen=True)
class RunSpec:
    threads: int = 1
    warmup: int = 10
    repeats: int = 50
    min_secs: float = 0.0
    backend: Optional[str] = None     # paddlelite: arm (default) | opencl; tflite: cpu (default) | gpu
    cpu_mask: Optional[str] = None    # taskset mask in hex; None -> let power_mode decide
    power_mode: Optional[int] = None  # Paddle-Lite 0 HIGH, 1 LOW, 2 FULL, 3 NO_BIND


def _check(spec: RunSpec) -> None:
    if spec.threads < 1 or spec.warmup < 0 or spec.repeats < 1:
        raise ToolError(f"bad run settings: threads={spec.threads} warmup={spec.warmup} repeats={spec.repeats}")
    if spec.cpu_mask is not None and not (spec.cpu_mask and all(c in "0123456789abcdefABCDEF" for c in spec.cpu_mask)):
        raise ToolError(f"bad taskset mask {spec.cpu_mask!r}: expected hex such as 80 or f0")
    if spec.power_mode is not None and spec.power_mode not in (0, 1, 2, 3):
        raise ToolError(f"bad power_mode {spec.power_mode}: Paddle-Lite accepts 0..3")


def _pin(argv: list[str], spec: RunSpec) -> list[str]:
    return ["taskset", spec.cpu_mask, *argv] if spec.cpu_mask else argv


def paddlelite_argv(tool: str, model: str, input_shape: str, spec: RunSpec) -> list[str]:
    """benchmark_bin argv. With a taskset mask we pass power_mode=3 (NO_BIND): otherwise Lite
    re-binds its threads to the big cluster itself and the mask would not be what ran."""
    _check(spec)
    if (spec.backend or "arm") not in ("arm", "opencl"):
        raise ToolError(f"benchmark_bin backend must be arm or opencl, not {spec.backend!r}")
    power = spec.power_mode if spec.power_mode is not None else (3 if spec.cpu_mask else 0)
    argv = [tool, f"--optimized_model_file={model}", f"--input_shape={input_shape}",
            f"--backend={'opencl,arm' if spec.backend == 'opencl' else 'arm'}",
            f"--warmup={spec.warmup}", f"--repeats={spec.repeats}", f"--threads={spec.threads}",
            f"--power_mode={power}"]
    return _pin(argv, spec)


def tflite_argv(tool: str, model: str, spec: RunSpec) -> list[str]:
    """benchmark_model argv. `--min_secs` defaults to 1 s in the tool, which would add runs beyond
    `--num_runs`; we pass the cell's value so the count is what was asked for."""
    _check(spec)
    if (spec.backend or "cpu") not in ("cpu", "gpu"):
        raise ToolError(f"benchmark_model backend must be cpu or gpu, not {spec.backend!r}")
    argv = [tool, f"--graph={model}", f"--num_threads={spec.threads}", f"--warmup_runs={spec.warmup}",
            f"--num_runs={spec.repeats}", f"--min_secs={spec.min_secs:g}"]
    argv.append("--use_gpu=true" if spec.backend == "gpu" else "--use_xnnpack=true")
    return _pin(argv, spec)
