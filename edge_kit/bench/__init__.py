"""Benchmark harness: devices x backends x threads -> results in bench_results/."""
