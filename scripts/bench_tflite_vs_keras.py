"""Artifact quality: LiteRT latency of edgekit's MobileNetV3 TFLite files against Keras-native MobileNetV3
of the same size converted with TFLiteConverter (the best a TFLite user gets by hand).

Same machine, same threads, runs interleaved (A B A B ...) so drift hits both alike; medians compared.
Writes bench_results/tflite_vs_keras.json and prints a table. Untrained weights on both sides:
latency does not depend on weight values.

    .venv/bin/python scripts/bench_tflite_vs_keras.py [--rounds 60] [--threads 1,2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAIRS = {"MobileNetV3_small_ssld": "MobileNetV3Small", "MobileNetV3_large_ssld": "MobileNetV3Large"}


def keras_native_tflite(app_name: str, out: Path) -> Path:
    import tensorflow as tf

    model = getattr(tf.keras.applications, app_name)(input_shape=(224, 224, 3), weights=None,
                                                     include_preprocessing=False, classes=1000)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    out.write_bytes(converter.convert())
    return out


def op_histogram(path: Path) -> dict:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    return dict(sorted(Counter(o["op_name"] for o in it._get_ops_details()).items()))


def interleaved_medians(paths: dict, threads: int, rounds: int, per_round: int = 5) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    interps = {}
    for name, p in paths.items():
        it = Interpreter(model_path=str(p), num_threads=threads)
        it.allocate_tensors()
        d = it.get_input_details()[0]
        it.set_tensor(d["index"], np.random.default_rng(0).random(d["shape"], dtype=np.float32))
        for _ in range(10):
            it.invoke()
        interps[name] = it
    samples = {name: [] for name in paths}
    for _ in range(rounds):
        for name, it in interps.items():
            for _ in range(per_round):
                t = time.perf_counter()
                it.invoke()
                samples[name].append((time.perf_counter() - t) * 1e3)
    return {name: {"median_ms": statistics.median(s), "min_ms": min(s), "n": len(s)} for name, s in samples.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default=",".join(PAIRS))
    args = ap.parse_args()
    from edge_kit.convert import convert

    results = {"what": "LiteRT median latency, edgekit TFLite vs Keras-native TFLiteConverter, fp32, interleaved",
               "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
               "versions": {p: version(p) for p in ("ai-edge-litert", "tensorflow", "onnx2tf", "paddle2onnx")},
               "rounds": args.rounds, "models": {}}
    tmp = Path(tempfile.mkdtemp(prefix="edgekit-keras-"))
    for model in args.models.split(","):
        ours = next(a for a in convert(model, to=("tflite",), precisions=("fp32",))
                    if a.format == "tflite" and a.precision == "fp32")
        if not ours.ok:
            print(f"{model}: edgekit's TFLite failed: {ours.manifest.get('parity', {}).get('reason')}")
            return 1
        keras_file = keras_native_tflite(PAIRS[model], tmp / f"{PAIRS[model]}.tflite")
        entry = {"edgekit_ops": op_histogram(ours.path), "keras_ops": op_histogram(keras_file),
                 "edgekit_bytes": ours.path.stat().st_size, "keras_bytes": keras_file.stat().st_size, "threads": {}}
        for threads in [int(t) for t in args.threads.split(",")]:
            med = interleaved_medians({"edgekit": ours.path, "keras": keras_file}, threads, args.rounds)
            ratio = med["edgekit"]["median_ms"] / med["keras"]["median_ms"]
            entry["threads"][threads] = {**med, "ratio": round(ratio, 4)}
            print(f"{model:24s} {threads} thread(s): edgekit {med['edgekit']['median_ms']:.3f} ms, keras-native "
                  f"{med['keras']['median_ms']:.3f} ms, ratio {ratio:.3f}")
        print(f"  ops edgekit: {entry['edgekit_ops']}\n  ops keras:   {entry['keras_ops']}")
        results["models"][model] = entry
    out = ROOT / "bench_results" / "tflite_vs_keras.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}")
    return 0


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
