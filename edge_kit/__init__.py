"""edgekit: PaddleX's vision model zoo on phones and servers, with measured latency.

Python API (the CLI is a thin layer over these):
    edge_kit.zoo.all_models(), edge_kit.zoo.get_model(name)
    edge_kit.convert.convert(...)           -> list[Artifact]
    edge_kit.bench.run_bench(...)           -> results appended to bench_results/
    edge_kit.report.render_report(...)
"""
__version__ = "0.1.0"
