"""How many parity images the emulated ARM check (edge_kit.arm_check) can afford for a model.

qemu runs the aarch64 kernels instruction by instruction, several hundred times slower than the host's own
LiteRT: a classifier's 8 parity images take seconds, one 608x608 YOLOv3 image minutes. The cost follows the
file's multiply-accumulates (MACs), counted from the file itself (convolutions, depthwise convolutions,
transposed convolutions, fully connected layers, batch matmuls), so the image count is decided before the
emulator starts and is the same on every machine: as many of the host parity's images as fit
BUDGET_CPU_S per file, and at least one.

A cut image count weakens only the task metric against the reference (fewer images); the other comparison,
the ARM kernels' outputs against x86 LiteRT's on the same file and the same images, is element by element
and stays as strong on one 608x608 image (4.8 M values for a YOLO) as on eight 224x224 ones (8 000).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

# Emulated CPU seconds per GMAC (qemu 7.2 -cpu cortex-a76, tflite-runtime 2.14 XNNPACK, one thread), from
# bench_results/arm_check_cost.json with tflite_macs() of the same fp32 files: MobileNetV3_small 1.14 s/image
# at 0.060 GMAC, ShuffleNetV2 2.49 s at 0.145, MobileNetV3_large 4.08 s at 0.220, MobileNetV2 5.21 s at 0.314:
# 16.6-19.0 s per GMAC (fp16 files: MobileNetV3_small 1.20 s, 20.0); the upper end.
CPU_S_PER_GMAC = 20.0
# Emulated CPU seconds a file may spend on parity images: every classifier keeps all 8 images (MobileNetV2,
# the heaviest, needs about 50 s); a 512x512 segmenter or a 608x608 YOLOv3 gets one to a few.
BUDGET_CPU_S = 60.0
BUDGET_ENV = "EDGEKIT_ARM_BUDGET_S"


def budget_cpu_s() -> float:
    """BUDGET_CPU_S, or EDGEKIT_ARM_BUDGET_S (a positive number) to trade check time for images."""
    raw = os.environ.get(BUDGET_ENV)
    if raw is None:
        return BUDGET_CPU_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or math.isinf(value):
        from edge_kit.errors import EdgekitError

        raise EdgekitError(f"{BUDGET_ENV}={raw!r}: give the emulated CPU seconds per file as a positive number")
    return value


def tflite_macs(path: Path) -> int:
    """Multiply-accumulates of one inference of a TFLite file, from its ops and tensor shapes."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # Without the default XNNPACK delegate the ops are the file's own, not one DELEGATE node.
    interp = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    shapes = {d["index"]: [int(s) for s in d["shape"]] for d in interp.get_tensor_details()}
    total = 0
    for op in interp._get_ops_details():
        ins, outs = [i for i in op["inputs"] if i >= 0], list(op["outputs"])
        total += op_macs(op["op_name"], [shapes[i] for i in ins], [shapes[o] for o in outs])
    return total


def op_macs(name: str, ins: list[list[int]], outs: list[list[int]]) -> int:
    """MACs of one op by TFLite's tensor layouts (0 for ops without a weight product)."""
    out = math.prod(outs[0]) if outs else 0
    if name == "CONV_2D" and len(ins) >= 2 and len(ins[1]) == 4:      # filter [O, KH, KW, I/groups]
        return out * math.prod(ins[1][1:])
    if name == "DEPTHWISE_CONV_2D" and len(ins) >= 2 and len(ins[1]) == 4:  # filter [1, KH, KW, O]
        return out * ins[1][1] * ins[1][2]
    if name == "FULLY_CONNECTED" and len(ins) >= 2 and len(ins[1]) == 2:    # filter [O, I]
        return out * ins[1][1]
    if name == "TRANSPOSE_CONV" and len(ins) >= 3 and len(ins[1]) == 4:     # (shape, filter [O,KH,KW,I], input)
        return math.prod(ins[2]) * ins[1][0] * ins[1][1] * ins[1][2]
    if name == "BATCH_MATMUL" and len(ins) >= 2 and ins[0]:                 # [..., M, K] x [..., K, N]
        return out * ins[0][-1]
    return 0


def plan_images(files: list[Path], available: int, budget: float | None = None) -> dict:
    """How many of `available` parity images to run every file on (all of a model's files share one
    emulated process and one input set), with the numbers that decided it, for the manifest."""
    budget = budget_cpu_s() if budget is None else budget
    try:
        gmacs = max(tflite_macs(Path(f)) for f in files) / 1e9
    except Exception as exc:  # a file the host cannot load: one image; the emulated run says what is wrong
        return {"images": 1, "available": available, "gmacs": None, "budget_cpu_s_per_file": budget,
                "why": f"the file's MACs could not be counted ({type(exc).__name__}: {str(exc)[:200]}): one image"}
    per_image = gmacs * CPU_S_PER_GMAC
    fits = int(budget // per_image) if per_image > 0 else available
    images = max(1, min(available, fits))
    cost = (f"about {per_image:.1f} emulated CPU-s per image ({gmacs:.2f} GMAC x {CPU_S_PER_GMAC:g} s/GMAC) "
            f"against a budget of {budget:g} s per file")
    if images == available:
        why = f"{cost}: all {available} host parity images fit"
    elif fits < 1:
        why = f"{cost}: one image is over it; the minimum, one image, is run"
    else:
        why = f"{cost}: {images} of the {available} host parity images fit"
    return {"images": images, "available": available, "gmacs": float(f"{gmacs:.4g}"),
            "estimated_cpu_s_per_image": float(f"{per_image:.4g}"), "budget_cpu_s_per_file": budget,
            "cpu_s_per_gmac": CPU_S_PER_GMAC, "why": why}
