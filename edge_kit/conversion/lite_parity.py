"""The x86 .nb's parity run, in a child process (converters.isolate) like every other tool.

Paddle-Lite ends the process on a fatal check (`[F ...] Check failed`, then SIGABRT): a kernel Opt
placed that this build lacks, a malformed .nb. Run inside edgekit, that abort took the whole `convert`
down, the other chain's work in progress with it, and printed no error line; and Paddle-Lite's run()
holds the GIL, so the ONNX -> TFLite chain's thread stood still meanwhile. In a child an abort is this
artifact's failed parity (with Paddle-Lite's last words), and the parent's thread waits on a pipe.
The child is forked from a server that has Paddle-Lite and this module imported (converters.isolate
.ForkServer): what it costs is a fork and the outputs written and read once as an .npz (a fresh
Python with its imports was 0.5-0.8 s per .nb: bench_results/lite_child_parity.json).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from converters.isolate import run_forked
from converters.paddle_source import load_outputs, save_outputs

PRELOAD = ["paddlelite.lite", "edge_kit.conversion.lite_parity", "edge_kit.infer"]
RUNTIMES = ("paddlelite",)  # host runtimes whose parity run goes to a child (the others raise, they do not abort)
TOOL = "Paddle-Lite"


def child_run_nb(nb: str, inputs_npz: str, out_npz: str) -> dict:
    """Run the .nb on the reference's parity inputs, one image at a time; save the outputs to `out_npz`."""
    from edge_kit.conversion.reference import parity_input_list
    from edge_kit.infer import run_artifact

    got = run_artifact("paddlelite", "x86", Path(nb), parity_input_list(inputs_npz))
    save_outputs(out_npz, got)
    return {"images": len(got)}


def run_nb(nb: Path, inputs_npz: Path, *, model: str, stage: str,
           out_dir: Path | None = None) -> list[list[np.ndarray]]:
    """The .nb's outputs per image, computed in a child. A crash raises ConversionError (tool: Paddle-Lite,
    detail: how it ended and its `[F ...]` line), as does an exception the runtime raised (an EdgekitError
    such as BackendError comes back as an EdgekitError with its message). The outputs' .npz lives beside the
    .nb in the stage's scratch dir until it is read."""
    out = Path(out_dir or nb.parent) / (nb.name + ".parity_outputs.npz")  # out_dir: when beside the .nb is not ours
    try:
        run_forked(child_run_nb, {"nb": str(nb), "inputs_npz": str(inputs_npz), "out_npz": str(out)}, PRELOAD,
                   model=model, stage=stage, tool=TOOL)
        return load_outputs(str(out))
    finally:
        out.unlink(missing_ok=True)
