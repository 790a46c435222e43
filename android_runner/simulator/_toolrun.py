"""Child process behind the benchmark stand-ins: really runs the model with the host runtime and prints
the real tool's report format. Runs as `python -m android_runner.simulator._toolrun SPEC_JSON` so that a
runtime crash (segfault, abort) kills only this process, never the simulator.
"""
from __future__ import annotations

import json
import math
import os
import resource
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _stat_line(us: list[int]) -> str:
    """tensorflow/core/util/stats_calculator.h Stat<int64>::OutputToStream."""
    if not us:
        return "count=0"
    if min(us) == max(us):
        return f"count={len(us)} curr={us[-1]}" + ("(all same)" if len(us) > 1 else "")
    avg = sum(us) / len(us)
    std = int(round(math.sqrt(sum((u - avg) ** 2 for u in us) / len(us))))
    # C++ streams print the double avg with 6 significant digits, like %g
    return (f"count={len(us)} first={us[0]} curr={us[-1]} min={min(us)} max={max(us)} "
            f"avg={avg:g} std={std}")


def _loop(invoke, min_runs: int, min_secs: float, max_secs: float) -> list[int]:
    """benchmark_model's Run(): at least min_runs and min_secs, stopping once max_secs is exceeded."""
    times, start = [], time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        if (len(times) >= min_runs and elapsed >= min_secs) or (times and elapsed > max_secs):
            return times
        t0 = time.perf_counter()
        invoke()
        times.append(int((time.perf_counter() - t0) * 1e6))


def run_tflite(spec: dict) -> int:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    p = lambda s: print("INFO: " + s, flush=True)
    mem0 = _rss_mb()
    p("STARTING!")
    p("Log parameter values verbosely: [0]")
    p(f"Num threads: [{spec['num_threads']}]")
    p(f"Graph: [{spec['device_model']}]")
    t0 = time.perf_counter()
    threads = spec["num_threads"] if spec["num_threads"] > 0 else None
    interp = Interpreter(model_path=spec["host_model"], num_threads=threads)
    p(f"Loaded model {spec['device_model']}")
    p(f"The input model file size (MB): {os.path.getsize(spec['host_model']) / 1e6:g}")
    interp.allocate_tensors()
    for d in interp.get_input_details():
        shape = [max(1, int(x)) for x in d["shape"]]
        rng = np.random.default_rng(0)
        data = rng.random(shape).astype(d["dtype"]) if np.issubdtype(d["dtype"], np.floating) \
            else np.zeros(shape, d["dtype"])
        interp.set_tensor(d["index"], data)
    init_us = int((time.perf_counter() - t0) * 1e6)
    mem_init = _rss_mb()
    p(f"Initialized session in {init_us / 1000:g}ms.")
    for phase, runs, secs in (("warmup", spec["warmup_runs"], spec["warmup_min_secs"]),
                              ("timed", spec["num_runs"], spec["min_secs"])):
        p(f"Running benchmark for at least {runs} iterations and at least {secs:g} seconds but "
          f"terminate if exceeding {spec['max_secs']:g} seconds.")
        times = _loop(interp.invoke, runs, secs, spec["max_secs"])
        p(_stat_line(times) + "\n")
        if phase == "warmup":
            warm = times
        else:
            timed = times
        if spec["run_delay"] > 0:
            time.sleep(min(spec["run_delay"], 1.0))
    avg = lambda xs: sum(xs) / len(xs) if xs else 0.0
    p(f"Inference timings in us: Init: {init_us}, First inference: {warm[0] if warm else 0}, "
      f"Warmup (avg): {avg(warm):g}, Inference (avg): {avg(timed):g}")
    p("Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE "
      "to the actual memory footprint of the model at runtime. Take the information at your discretion.")
    p(f"Memory footprint delta from the start of the tool (MB): init={mem_init - mem0:g} "
      f"overall={_rss_mb() - mem0:g}")
    return 0


def run_paddlelite(spec: dict) -> int:
    import numpy as np
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    mem0 = _rss_mb()
    t0 = time.perf_counter()
    config = MobileConfig()
    config.set_model_from_file(spec["host_model"])
    if hasattr(config, "set_threads"):
        config.set_threads(spec["threads"])
    else:   # the x86 Python binding of Lite 2.13 has no thread setter: say so rather than pretend
        print(f"NOTE: simulated run: the host Paddle-Lite binding cannot set threads={spec['threads']}; "
              "it used its default", flush=True)
    predictor = create_paddle_predictor(config)
    shapes = [[int(x) for x in s.split(",")] for s in spec["input_shape"].split(":")]
    for i, shape in enumerate(shapes):
        predictor.get_input(i).from_numpy(np.ones(shape, dtype=np.float32))   # the tool's default: all 1.f
    init_ms = (time.perf_counter() - t0) * 1e3
    t1 = time.perf_counter()
    predictor.run()
    first_ms = (time.perf_counter() - t1) * 1e3
    for _ in range(spec["warmup"]):
        predictor.run()
    times = []
    for _ in range(spec["repeats"]):
        t = time.perf_counter()
        predictor.run()
        times.append((time.perf_counter() - t) * 1e3)
        if spec["run_delay"] > 0:
            time.sleep(min(spec["run_delay"], 1.0))
    out = predictor.get_output(0).numpy()
    p = lambda s="": print(s, flush=True)
    p("======= Device Info =======")
    p(f"Brand: {spec['brand']}\nDevice: {spec['device']}\nModel: {spec['model']}\nAndroid Version: 10\n"
      f"Android API Level: 29\n")
    p("======= Model Info =======")
    p(f"optimized_model_file: {spec['device_model']}\ninput_data_path: All 1.f\n"
      f"input_shape: {spec['input_shape']}\noutput tensor num: 1\n--- output tensor 0 ---\n"
      f"output shape(NCHW): {' '.join(str(d) for d in out.shape)}\noutput tensor 0 elem num: {out.size}\n"
      f"output tensor 0 mean value: {float(out.mean()):g}\n"
      f"output tensor 0 standard deviation: {float(out.std()):g}\n")
    p("======= Runtime Info =======")
    p(f"benchmark_bin version: simulated\nthreads: {spec['threads']}\npower_mode: {spec['power_mode']}\n"
      f"warmup: {spec['warmup']}\nrepeats: {spec['repeats']}\nresult_path: {spec['result_path']}\n")
    p("======= Backend Info =======")
    p(f"backend: {spec['backend']}\ncpu precision: fp32\n")
    p("======= Perf Info =======")
    p("Time(unit: ms):")
    for k, v in (("init  ", init_ms), ("first ", first_ms), ("min   ", min(times, default=0.0)),
                 ("max   ", max(times, default=0.0)), ("avg   ", sum(times) / len(times) if times else 0.0)):
        p(f"{k}= {v:<12.3f}")
    if spec["enable_memory_profile"]:
        p("\nMemory Usage(unit: MB):")
        p(f"init  = {_rss_mb() - mem0:<12.3f}")
        p(f"avg   = {_rss_mb() - mem0:<12.3f}")
    return 0


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    sys.exit({"tflite": run_tflite, "paddlelite": run_paddlelite}[spec["kind"]](spec))
