"""Export a zoo model to a legacy Paddle inference program, in a child process (converters.isolate):
Paddle must see FLAGS_enable_pir_api=0 (converters.paddle_source.LEGACY_ENV) before it is imported, and
building the network needs edgekit's zoo and, for an app bundle, the app's graph adaptation
(edge_kit.apps.graph), which is why this child lives here and not in the `converters` package.

Nothing heavy is imported at module level: the child imports this module by name before it runs.
"""
from __future__ import annotations

import os
from pathlib import Path


def child_export_zoo(model: str, out_dir: str, weights: str | None, seed: int, build_kwargs: dict,
                     reference: dict | None = None) -> dict:
    """Export a zoo model to `out_dir/inference.pdmodel|.pdiparams`; with `reference` (the keyword arguments
    of child_reference_outputs, `program`/`params` being where the export is moved to), also run it."""
    assert os.environ.get("FLAGS_enable_pir_api") == "0", "export must run with the legacy program format"
    import paddle

    from edge_kit.zoo import get_model
    from edge_kit.zoo.build import build_model

    spec = get_model(model)
    build_kwargs = dict(build_kwargs)
    app_graph = build_kwargs.pop("app_graph", None)
    if app_graph:  # a graph adapted to an Android app's contract (edge_kit.apps.graph)
        from edge_kit.apps import graph as app_graphs

        build_kwargs.update(app_graphs.base_kwargs(app_graph))
    layer = build_model(spec, weights=weights, seed=seed, **build_kwargs)
    if app_graph:
        layer = app_graphs.wrap(layer, app_graph)
    shape = list(build_kwargs.get("input_shape", spec.input_shape))
    specs = app_graphs.input_specs(app_graph, shape) if app_graph else [paddle.static.InputSpec(shape, "float32", "image")]
    _save(layer, specs, out_dir, reference)
    return {"weights": getattr(layer, "edgekit_weights", "unknown"), "paddle": paddle.__version__}


def _save(layer, specs, out_dir: str, reference: dict | None) -> None:
    """paddle.jit.save into out_dir/inference.*; with `reference`, moved there and run."""
    import paddle

    from converters.paddle_source import strip_callstacks
    from edge_kit.conversion.reference import child_reference_outputs

    prefix = Path(out_dir) / "inference"
    paddle.jit.save(layer, str(prefix), input_spec=specs)
    if not prefix.with_suffix(".pdmodel").exists():
        raise RuntimeError("paddle.jit.save wrote no .pdmodel (is PIR still on?)")
    strip_callstacks(prefix.with_suffix(".pdmodel"))
    if reference:
        os.replace(prefix.with_suffix(".pdmodel"), reference["program"])
        os.replace(prefix.with_suffix(".pdiparams"), reference["params"])
        for extra in Path(out_dir).glob("inference.*"):
            extra.unlink()
        child_reference_outputs(**reference)


def child_export_zoo_graphs(model: str, weights: str | None, seed: int, graphs: list[dict]) -> dict:
    """A dense model's graphs from one build: `graphs` is [{"postprocess": bool, "out_dir": ..., "reference":
    {...}}] (child_export_zoo's arguments per graph). The network is built and calibrated once and exported
    once per graph with its in-graph post-processing switched; each trace gets fresh unique names, so the
    programs and parameters are byte for byte those of separate child_export_zoo runs (checked on
    YOLOv3-MobileNetV1 and in tests/test_conversion_speed.py). Saves a Paddle import and a build with its
    calibration pass: about 10 s of CPU per dense model (profiled)."""
    assert os.environ.get("FLAGS_enable_pir_api") == "0", "export must run with the legacy program format"
    import paddle
    from paddle.utils import unique_name

    from edge_kit.zoo import get_model
    from edge_kit.zoo.build import build_model

    spec = get_model(model)
    layer = build_model(spec, weights=weights, seed=seed, postprocess=graphs[0]["postprocess"])
    for graph in graphs:
        layer.postprocess = graph["postprocess"]
        with unique_name.guard():
            _save(layer, [paddle.static.InputSpec(list(spec.input_shape), "float32", "image")], graph["out_dir"],
                  graph["reference"])
    return {"weights": getattr(layer, "edgekit_weights", "unknown"), "paddle": paddle.__version__}
