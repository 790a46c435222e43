"""Runs INSIDE the emulated aarch64 Python (qemu-aarch64-static, CPython 3.11 from Debian arm64) with only
numpy and tflite_runtime: it must not import edgekit, which lives in the host's x86 Python 3.10.

    python3.11 -I arm_tflite_runner.py SITE_DIR JOB.json      (SITE_DIR: where the aarch64 wheels are unpacked)

JOB.json: {"inputs": "inputs.npz" (arrays in0, in1, ...: NCHW float32, batch = images),
           "models": [{"tflite": "a.tflite", "out": "a.out.npz"}, ...], "threads": 1}
For each model it writes out.npz with img{b}_out{j} arrays (one image at a time: the files are batch 1)
and prints one JSON line describing where it ran (machine, CPU features, runtime version). Nothing is
timed: emulated speed says nothing about a phone.
"""
import ctypes
import json
import platform
import sys

sys.path.insert(0, sys.argv[1])  # before numpy: the aarch64 wheels live outside the Debian userland's paths
import numpy as np  # noqa: E402
import tflite_runtime  # noqa: E402
from tflite_runtime.interpreter import Interpreter  # noqa: E402

# AT_HWCAP bits on aarch64 (linux/arch/arm64/include/uapi/asm/hwcap.h): which NEON/fp16/dot paths exist.
HWCAP_BITS = {"fp": 0, "asimd": 1, "fphp": 9, "asimdhp": 10, "asimddp": 20, "sve": 22}


def hwcaps():
    try:
        libc = ctypes.CDLL(None)
        libc.getauxval.restype = ctypes.c_ulong
        caps = libc.getauxval(16)  # AT_HWCAP
    except Exception:  # a libc without getauxval: report nothing rather than guess
        return []
    return [name for name, bit in HWCAP_BITS.items() if caps >> bit & 1]


def fit(x, shape, dtype):
    """NCHW -> NHWC when the file's declared shape says so (the same rule as edge_kit.runtimes.tensors.fit)."""
    shape = tuple(int(d) for d in shape)
    if x.ndim == 4 and x.shape != shape and x.transpose(0, 2, 3, 1).shape == shape:
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x.astype(dtype, copy=False))


def run_model(path, inputs, threads):
    interp = Interpreter(model_path=path, num_threads=threads)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()
    results = {}
    for b in range(inputs[0].shape[0]):
        for d, x in zip(ins, inputs):
            interp.set_tensor(d["index"], fit(x[b:b + 1], d["shape"], d["dtype"]))
        interp.invoke()
        for j, d in enumerate(outs):
            results[f"img{b}_out{j}"] = interp.get_tensor(d["index"]).copy()
    return results


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    data = np.load(job["inputs"])
    inputs = [data[f"in{i}"] for i in range(len(data.files))]
    for m in job["models"]:
        np.savez(m["out"], **run_model(m["tflite"], inputs, int(job.get("threads", 1))))
    print(json.dumps({"machine": platform.machine(), "python": platform.python_version(),
                      "numpy": np.__version__, "tflite_runtime": tflite_runtime.__version__,
                      "hwcaps": hwcaps()}))


if __name__ == "__main__":
    main(sys.argv[2])
