"""Several conversions at once: `convert_many(["YOLOv3-MobileNetV1", "MobileNetV2", ...], jobs=2)`.

One conversion leaves a core idle for much of its time: the reference export, Opt, paddle2onnx and the
parity runs are single-threaded, and only onnx2tf and the two side-by-side chains keep both cores busy.
Running two models side by side fills those gaps (measured: the lightweight zoo on 2 cores, 380 s one
after another, bench_results/conversion_speed.json).

Each model is an ordinary convert() in its own thread, so everything convert() guarantees still holds:
every tool runs in its own child process (a crash there is that stage's failed artifact), each model
publishes only into its own `out_dir/<model>/`, and cache entries are built in scratch directories.
A model whose conversion raises (a bad name, a full disk) is one error for that model; the others go on.
The biggest models start first, so the last minutes are not one big model converting alone.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Union

from edge_kit.errors import EdgekitError


@dataclass
class Outcome:
    """One model's result: its Conversion, or the one-line error that stopped it."""
    model: str
    conversion: Optional[list] = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _size(model: str) -> int:
    """How big a conversion is likely to be, to start the big ones first: the input's pixel count (the
    parity runs and onnx2tf's work grow with it). A name edgekit does not know sorts last and fails there."""
    from edge_kit.zoo.registry import get_model

    try:
        shape = get_model(model).input_shape
    except EdgekitError:
        return 0
    return shape[2] * shape[3]


def schedule(models: Iterable[str]) -> list[str]:
    """The order conversions start in: biggest input first, ties in the given order; repeats dropped."""
    unique = list(dict.fromkeys(models))
    return sorted(unique, key=lambda m: -_size(m))  # sorted() is stable: ties keep the user's order


def _label(item: Union[str, dict]) -> str:
    """A zoo name, or a user's model given as convert() source keywords ({"paddle_model": DIR}, {"onnx": FILE})."""
    if isinstance(item, str):
        return item
    return str(item.get("paddle_model") or item.get("onnx") or item.get("model"))


def convert_many(models: Iterable[Union[str, dict]], *, jobs: int = 2,
                 on_done: Optional[Callable[[Outcome], None]] = None, **convert_kwargs) -> list[Outcome]:
    """Convert several models, up to `jobs` at a time, each with convert(**its source, **convert_kwargs).
    A model is a zoo name or a dict of convert()'s source keywords (paddle_model / onnx, options).
    Returns one Outcome per model, in the order given (repeats dropped). `on_done` is called as each
    model finishes, one call at a time (so a caller's printed blocks never interleave)."""
    from edge_kit.conversion import run

    if jobs < 1:
        raise EdgekitError(f"--jobs must be at least 1, got {jobs}")
    items = {_label(m): m for m in models}
    if not items:
        raise EdgekitError("no model to convert")
    done_lock = threading.Lock()

    def one(label: str) -> Outcome:
        item = items[label]
        source = {"model": item} if isinstance(item, str) else item
        try:
            outcome = Outcome(label, conversion=run.convert(**source, share_cores=jobs > 1, **convert_kwargs))
        except EdgekitError as err:
            outcome = Outcome(label, error=str(err))
        except Exception as err:  # a bug must not lose the other models' work; it is still reported
            outcome = Outcome(label, error=f"{type(err).__name__}: {err}")
        if on_done is not None:
            with done_lock:
                on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="edgekit-model") as pool:
        futures = {label: pool.submit(one, label) for label in schedule(items)}
        return [futures[label].result() for label in items]
