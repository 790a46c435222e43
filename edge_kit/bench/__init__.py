"""Benchmark harness: devices x backends x threads -> results in bench_results/.

Python API (what `edgekit bench` calls):
    device = open_device("host")                      # or "sd855", "auto"; edge_kit.bench.devices
    summary = run_bench(["MobileNetV3_small_ssld"], device, threads=(1, 2), provider=None)
    device.close()
`provider` gives each cell its artifact (edge_kit.bench.artifacts; None: convert on demand). Several
phones at once: android_runner.farm.bench_phones.
"""

_API = {"run_bench": "harness", "load_artifacts": "harness", "BenchSummary": "harness", "open_device": "devices",
        "convert_on_demand": "artifacts", "Want": "artifacts"}


def __getattr__(name: str):
    # lazy: importing edge_kit.bench.cell (say) must not import every runtime and the converter
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f"edge_kit.bench.{_API[name]}"), name)
    raise AttributeError(f"module 'edge_kit.bench' has no attribute {name!r}")
