"""Where the on-device benchmark binaries come from, and the simulator's built-in stand-ins.

A real phone needs two official binaries (edgekit downloads nothing at run time). Their versions must
match what made the files: a `.nb` is read by the Paddle-Lite runtime of the `opt` that wrote it
(paddlelite 2.13rc0 here), and the .tflite files use TensorFlow 2.21's op set.

A simulated phone (`edgekit device-sim`, getprop ro.edgekit.simulated=1) runs its own stand-ins for
files named benchmark_bin / benchmark_model and only checks that what is pushed is an arm64 ELF, so
edgekit supplies such headers itself: the dry run needs no --tool-dir.
"""
from __future__ import annotations

import os
from pathlib import Path

from android_runner.tools import ABI_ELF, TOOL_FOR_BACKEND

GUIDE = {
    "benchmark_bin": (
        "Paddle-Lite's benchmark_bin, version 2.13-rc (the .nb files come from paddlelite 2.13rc0's opt and "
        "need the same runtime): git clone -b v2.13-rc https://github.com/PaddlePaddle/Paddle-Lite; "
        "./lite/tools/build_android.sh --arch=armv8 --toolchain=clang --with_benchmark=ON full_publish; "
        "take build.lite.android.armv8.clang/lite/api/tools/benchmark/benchmark_bin"),
    "benchmark_model": (
        "TFLite's benchmark_model for android arm64, TensorFlow 2.21 or newer (the .tflite files use its op set): "
        "the prebuilt https://storage.googleapis.com/tensorflow-nightly-public/prod/tensorflow/release/lite/"
        "tools/nightly/latest/android_aarch64_benchmark_model (rename it benchmark_model), or in a TensorFlow "
        "v2.21.0 checkout: bazel build -c opt --config=android_arm64 "
        "//tensorflow/lite/tools/benchmark:benchmark_model"),
}


def tools_guide(missing=tuple(TOOL_FOR_BACKEND.values())) -> str:
    return " ".join(f"[{name}] {GUIDE[name]}." for name in missing if name in GUIDE)


def simulator_standins(abi: str) -> dict[str, Path]:
    """ELF headers for the simulator's stand-ins, kept in edgekit's cache (same bytes every time, so the
    push-by-hash finds them already on the simulated phone)."""
    from android_runner.testing import write_fake_android_elf

    ei_class, machine = ABI_ELF.get(abi, ABI_ELF["arm64-v8a"])
    root = Path(os.environ.get("EDGEKIT_CACHE") or Path.home() / ".cache" / "edgekit") / "simulator-tools" / abi
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in TOOL_FOR_BACKEND.values():
        path = root / name
        if not path.is_file():
            tmp = root / f".{name}.{os.getpid()}"
            write_fake_android_elf(tmp, machine=machine, elf_class=ei_class)
            os.replace(tmp, path)
        out[name] = path
    return out
