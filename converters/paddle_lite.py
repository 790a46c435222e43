"""Paddle program -> Paddle-Lite `.nb` (naive buffer) with Lite's `Opt`, after the compat passes.

Targets:
  arm     the phone's CPU (what demo apps and benchmark_bin load), fp32 or fp16 (ARMv8.2 fp16 kernels)
  opencl  the phone's GPU (Adreno), with ARM fallback for ops OpenCL lacks
  x86     the same program for this machine: the only `.nb` we can execute here, so parity of the
          graph passes is checked on it (ARM kernels themselves cannot be checked without a phone)
"""
from __future__ import annotations

import re
from pathlib import Path

# target -> Opt valid places. Never mix "x86,arm": Opt then picks ARM kernels inside an x86 .nb,
# which compute garbage on x86 (this was the "MobileNetV3 mismatches" of the toolchain notes).
VALID_PLACES = {"arm": "arm", "opencl": "opencl,arm", "x86": "x86"}


def child_opt(program: str, params: str, out_stem: str, target: str, fp16: bool) -> dict:
    from paddlelite.lite import Opt

    opt = Opt()
    opt.set_model_file(program)
    opt.set_param_file(params)
    if fp16:
        # Before set_valid_places: Lite 2.13's Opt reads the flag only while parsing "arm" into places
        # (lite/api/tools/opt_base.cc). Called after, it is ignored and the "fp16" .nb had no fp16 kernel.
        opt.enable_fp16()
    opt.set_valid_places(VALID_PLACES[target])
    opt.set_model_type("naive_buffer")
    opt.set_optimize_out(out_stem)
    opt.run()
    out = Path(out_stem + ".nb")
    if not out.exists() or out.stat().st_size < 64:
        raise RuntimeError(f"Opt reported success but wrote no usable {out.name}")
    return {"file": str(out)}


def lite_version() -> str:
    from importlib.metadata import version

    return version("paddlelite")


def child_nb_op_histogram(nb_path: str) -> dict[str, int]:
    """Op types of a .nb, read from the graph Lite itself dumps (visualize_optimized_nb_model writes .dot)."""
    import re
    import tempfile
    from collections import Counter

    from paddlelite.lite import Opt

    with tempfile.TemporaryDirectory() as tmp:
        Opt().visualize_optimized_nb_model(nb_path, tmp)
        counts: Counter = Counter()
        for dot in Path(tmp).glob("*.dot"):
            # Op nodes are drawn filled without shape=record; tensors carry shape="record".
            for label, rest in re.findall(r'label="([^"]+)"([^\]]*)\]', dot.read_text()):
                if "record" not in rest and label not in ("feed", "fetch"):
                    counts[label] += 1
    return dict(sorted(counts.items()))


# Lite's PrecisionType ids (lite/api/paddle_place.h) as they appear in a .nb's kernel keys
PRECISION_IDS = {"1": "fp32", "2": "int8", "3": "int32", "4": "any", "5": "fp16", "6": "bool", "7": "int64"}
# A kernel key, `op/alias/target/precision/layout`, standing alone: no key character before it, no digit or
# slash after it.
KERNEL_KEY = re.compile(rb"(?<![A-Za-z0-9_/])[a-z][a-z0-9_]*/[a-z0-9_]+/\d+/(\d+)/\d+(?![0-9/])")
# What every key contains, with a literal first byte the regex engine can scan for quickly.
_KEY_TAIL = re.compile(rb"/[0-9]+/[0-9]+/[0-9]")
_KEY_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/")


def kernel_key_precisions(data: bytes) -> list[bytes]:
    """The precision id of every KERNEL_KEY in `data`, in order: exactly KERNEL_KEY.findall(data).

    findall tries the pattern at every byte, 3.4 s of CPU on a 98 MB YOLOv3 .nb (three per conversion,
    holding the GIL the other stages' threads need); this takes 0.08 s. A key is made of _KEY_BYTES and
    nothing of them precedes it, so it can only start where a run of those bytes starts, and each run
    holds at most one. Each run holding a _KEY_TAIL (every key has one) is tried once, from its start."""
    found, run_end = [], -1
    for tail in _KEY_TAIL.finditer(data):
        if tail.start() < run_end:
            continue  # in the run just tried
        start, run_end = tail.start(), tail.end()
        while start > 0 and data[start - 1] in _KEY_BYTES:
            start -= 1
        while run_end < len(data) and data[run_end] in _KEY_BYTES:
            run_end += 1
        key = KERNEL_KEY.match(data, start)
        if key:
            found.append(key.group(1))
    return found


def nb_kernel_precisions(nb_path) -> dict[str, int]:
    """How many of a .nb's kernels run in each precision, from the kernel keys Opt stores per op
    (`op/alias/target/precision/layout`, e.g. `conv2d/def/4/5/1` = ARM fp16 NCHW). Weights stay fp32 in
    the file either way: Lite's fp16 kernels convert them when the predictor loads
    (lite/kernels/arm/conv_compute.cc, PrepareForRun), so an fp16 .nb is about the fp32 one's size."""
    from collections import Counter

    keys = kernel_key_precisions(Path(nb_path).read_bytes())
    counts = Counter(PRECISION_IDS.get(k.decode(), f"precision {k.decode()}") for k in keys)
    return dict(sorted(counts.items()))
