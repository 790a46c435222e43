"""The reference every artifact is compared with: the Paddle program run by Paddle Inference, through the
same runtime layer (edge_kit.runtimes.paddle) as the `paddle` bench backend. Runs in an isolated child
(converters.isolate): Paddle aborts the process on some bad programs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from converters.paddle_source import is_pir, save_outputs


def parity_input_list(inputs_npz: str | Path) -> list[np.ndarray]:
    """A reference's parity inputs (its parity_inputs.npz) as the artifacts are fed them: the image first,
    then the app-adapted graphs' extra inputs (edge_kit.bundle) in the order they were saved."""
    data = np.load(inputs_npz)
    return [data["image"]] + [data[k] for k in data.files if k != "image"]


def child_reference_outputs(program: str, params: str, inputs_npz: str, out_npz: str,
                            mkldnn: bool | None = None) -> dict:
    """Outputs per image of `inputs_npz` (arrays by input name, else in input order), saved to `out_npz`.
    `mkldnn=False` turns oneDNN off (see lite_int8's simulated-quantization check)."""
    import paddle

    from edge_kit.runtimes import open_runtime

    # oneDNN stays Paddle's default on a legacy program; a PIR program needs it off (edge_kit.runtimes.paddle)
    options = {"params": params, "mkldnn": False if is_pir(Path(program)) else mkldnn}
    rt = open_runtime("paddle", program, threads=1, options=options)
    data = np.load(inputs_npz)
    names = [t.name for t in rt.io()[0]]
    arrays = {name: data[name] if name in data else data[data.files[i]] for i, name in enumerate(names)}
    batches = next(iter(arrays.values())).shape[0]
    # the programs are exported with batch 1: one image at a time
    per_image = [list(rt.infer({n: a[b:b + 1] for n, a in arrays.items()}).values()) for b in range(batches)]
    save_outputs(out_npz, per_image)
    outputs = [t.name for t in rt.io()[1]]
    rt.close()
    return {"outputs": outputs, "paddle": paddle.__version__}
