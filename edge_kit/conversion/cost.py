"""What a conversion is expected to cost, so that several models can start longest first
(edge_kit.conversion.many: longest-processing-time-first keeps the last minutes from being one big
model converting alone while the other core idles).

Two estimates, only ever used to order the starts (a wrong one costs wall time, never a result):

  recorded  seconds the model's latest conversion spent, read from the manifests it left in the cache
            (each keeps its stage's `seconds` and its parity check's `verify_seconds`), over the stages
            every default conversion has: the reference (its longest graph: a dense model's two graphs
            are exported side by side, or together with both manifests recording the shared time), the
            x86 `.nb`, the ONNX and the fp32 TFLite (whose `seconds` include onnx2tf's fp16 file too).
  static    from the zoo registry alone, when some model of the batch has no record: input pixels times
            the number of reference graphs (the exports, every parity run and onnx2tf's work grow with
            the input; a detector or segmenter exports and runs two graphs), ties broken by the seed's
            file size, a stand-in for the parameter count (the classifiers share one input size).

The two are in different units, so a batch is ordered by records only when every model has one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional

# cache kind -> which of its manifests count, as (format, target, precision); None: every one (references)
RECORDED = {"reference": None, "paddlelite": ("paddlelite", "x86", "fp32"), "onnx": ("onnx", "cpu", "fp32"),
            "tflite": ("tflite", "cpu", "fp32")}


def static_cost(model: str) -> tuple[int, float]:
    """(input pixels x reference graphs, seed file MB) of a zoo model; (0, 0.0) for a name the zoo does
    not know (a user's model, or a typo that will fail on its own): those start last, in the given order."""
    from edge_kit.conversion.graphs import graphs_for
    from edge_kit.errors import EdgekitError
    from edge_kit.zoo.registry import get_model

    try:
        spec = get_model(model)
        storage = spec.seed.storage_mb
    except (EdgekitError, KeyError):
        return 0, 0.0
    _, _, h, w = spec.input_shape
    return h * w * len(graphs_for(spec.task, "zoo")), storage or 0.0


def recorded_seconds(models: Iterable[str], root: Optional[Path] = None) -> dict[str, float]:
    """Seconds of each model's latest conversion by the manifests in the cache (see the module doc), for
    the models that have the reference, ONNX and fp32 TFLite stages recorded (and the x86 `.nb` when the
    reference is a Paddle program); models without are left out."""
    from edge_kit.conversion.cache import cache_root

    root = cache_root() if root is None else Path(root)
    want = set(models)
    newest: dict[tuple[str, str, str], tuple[float, float]] = {}  # (model, kind, graph) -> (mtime, seconds)
    paddle_ref: dict[str, bool] = {}
    for kind, slot in RECORDED.items():
        for path in (root / kind).glob("*/*.manifest.json"):
            try:
                m = json.loads(path.read_text())
                mtime = path.stat().st_mtime
            except (OSError, ValueError):
                continue  # a manifest being written or damaged: it just does not count
            if not isinstance(m, dict) or m.get("model") not in want:
                continue
            if slot is not None and (m.get("format"), m.get("target"), m.get("precision")) != slot:
                continue
            key = (m["model"], kind, str(m.get("graph")) if kind == "reference" else "")
            if key not in newest or mtime > newest[key][0]:
                newest[key] = (mtime, float(m.get("seconds") or 0) + float(m.get("verify_seconds") or 0))
                if kind == "reference":
                    paddle_ref[m["model"]] = m.get("format") == "paddle"
    out = {}
    for model in want:
        refs = [s for (mod, kind, _), (_, s) in newest.items() if mod == model and kind == "reference"]
        needed = ("onnx", "tflite") + (("paddlelite",) if paddle_ref.get(model) else ())
        rest = [newest.get((model, kind, "")) for kind in needed]
        if refs and all(rest):
            out[model] = round(max(refs) + sum(s for _, s in rest), 2)
    return out


def expected_costs(models: dict[str, str], root: Optional[Path] = None) -> dict[str, tuple]:
    """label -> a sortable cost, bigger = longer. `models` maps each label to the model name its
    conversion records in manifests (a zoo name, a user's model directory name or ONNX stem)."""
    recorded = recorded_seconds(set(models.values()), root)
    if models and all(name in recorded for name in models.values()):
        return {label: (recorded[name],) for label, name in models.items()}
    return {label: static_cost(name) for label, name in models.items()}
