"""Several conversions at once: `convert_many(["YOLOv3-MobileNetV1", "MobileNetV2", ...], jobs=2)`.

One conversion leaves a core idle for much of its time: the reference export, Opt, paddle2onnx and the
parity runs are single-threaded, and only onnx2tf and the two side-by-side chains keep both cores busy.
Running two models side by side fills those gaps (measured: the lightweight zoo on 2 cores, 380 s one
after another, bench_results/conversion_speed.json).

Each model is an ordinary convert() in its own thread, so everything convert() guarantees still holds:
every tool runs in its own child process (a crash there is that stage's failed artifact), each model
publishes only into its own `out_dir/<model>/`, and cache entries are built in scratch directories.
A model whose conversion raises (a bad name, a full disk) is one error for that model; the others go on.
The longest conversions start first (largest expected cost, edge_kit.conversion.cost: the seconds the
model's previous conversion recorded in the cache, else its input size), so the last minutes are not one
big model converting alone; results still come back in the order the user gave.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Union

from edge_kit.conversion.cost import expected_costs
from edge_kit.errors import EdgekitError


@dataclass
class Outcome:
    """One model's result: its Conversion, or the one-line error that stopped it; when it started and
    ended (time.perf_counter(), to see how the jobs were packed)."""
    model: str
    conversion: Optional[list] = None
    error: Optional[str] = None
    started: float = 0.0
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def schedule(models: Iterable[str], costs: Optional[dict] = None) -> list[str]:
    """The order conversions start in: the largest expected cost first (edge_kit.conversion.cost), ties
    in the given order; repeats dropped. `costs`: label -> sortable cost (default: the zoo names' own)."""
    unique = list(dict.fromkeys(models))
    if costs is None:
        costs = expected_costs({m: m for m in unique})
    return sorted(unique, key=lambda m: costs[m], reverse=True)  # stable with reverse too: ties keep the given order


def _label(item: Union[str, dict]) -> str:
    """A zoo name, or a user's model given as convert() source keywords ({"paddle_model": DIR}, {"onnx": FILE})."""
    if isinstance(item, str):
        return item
    return str(item.get("paddle_model") or item.get("onnx") or item.get("model"))


def _recorded_name(item: Union[str, dict]) -> str:
    """The model name a conversion of `item` writes into its manifests (edge_kit.conversion.sources)."""
    from edge_kit.conversion.sources import user_model_name

    if isinstance(item, str):
        return item
    if item.get("paddle_model") or item.get("onnx"):
        return user_model_name(item.get("paddle_model"), item.get("onnx"))
    return str(item.get("model"))


def convert_many(models: Iterable[Union[str, dict]], *, jobs: int = 2,
                 on_done: Optional[Callable[[Outcome], None]] = None, **convert_kwargs) -> list[Outcome]:
    """Convert several models, up to `jobs` at a time, each with convert(**its source, **convert_kwargs).
    A model is a zoo name or a dict of convert()'s source keywords (paddle_model / onnx, options).
    Models start longest first (schedule); the answer keeps the user's order: one Outcome per model, in
    the order given (repeats dropped), and `on_done` is called in that order too, for each model as soon
    as it and every model given before it have finished, one call at a time (a caller's printed blocks
    never interleave and come out in the order the user named the models)."""
    from edge_kit.conversion import run

    if jobs < 1:
        raise EdgekitError(f"--jobs must be at least 1, got {jobs}")
    items = {_label(m): m for m in models}
    if not items:
        raise EdgekitError("no model to convert")
    done_lock = threading.Lock()
    order, finished = list(items), {}

    def release(outcome: Outcome) -> None:
        with done_lock:
            finished[outcome.model] = outcome
            while on_done is not None and order and order[0] in finished:
                on_done(finished[order.pop(0)])

    def one(label: str) -> Outcome:
        item = items[label]
        source = {"model": item} if isinstance(item, str) else item
        started = time.perf_counter()
        try:
            outcome = Outcome(label, conversion=run.convert(**source, share_cores=jobs > 1, **convert_kwargs))
        except EdgekitError as err:
            outcome = Outcome(label, error=str(err))
        except Exception as err:  # a bug must not lose the other models' work; it is still reported
            outcome = Outcome(label, error=f"{type(err).__name__}: {err}")
        outcome.started, outcome.ended = started, time.perf_counter()
        release(outcome)
        return outcome

    costs = expected_costs({label: _recorded_name(item) for label, item in items.items()})
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="edgekit-model") as pool:
        futures = {label: pool.submit(one, label) for label in schedule(items, costs)}
        return [futures[label].result() for label in items]
