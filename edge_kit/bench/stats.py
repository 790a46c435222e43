"""Summary statistics of latency samples (milliseconds).

Percentiles use linear interpolation between order statistics (numpy's default), std is the sample
standard deviation (ddof=1) because a benchmark's runs are a sample of the runtime's behaviour.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

from edge_kit.errors import EdgekitError


def percentile(sorted_samples: Sequence[float], q: float) -> float:
    """q in [0, 100] of already sorted samples, linear interpolation (numpy 'linear')."""
    n = len(sorted_samples)
    pos = (n - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * (pos - lo)


def summarize(samples_ms: Sequence[float]) -> dict:
    """min/median/mean/p90/p99/max/std/cv of samples. cv = std / mean (None when undefined)."""
    xs = sorted(float(x) for x in samples_ms)
    if not xs:
        raise EdgekitError("no latency samples to summarize (repeats must be >= 1)")
    n = len(xs)
    mean = sum(xs) / n
    std: Optional[float] = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    return {
        "count": n, "min_ms": xs[0], "median_ms": percentile(xs, 50), "mean_ms": mean,
        "p90_ms": percentile(xs, 90), "p99_ms": percentile(xs, 99), "max_ms": xs[-1], "std_ms": std,
        "cv": (std / mean) if (std is not None and mean > 0) else None,
    }
