"""Summary statistics against numpy's definitions (the report's numbers rest on these)."""
import numpy as np
import pytest

from edge_kit.bench.stats import summarize
from edge_kit.errors import EdgekitError


def test_summary_matches_numpy_on_skewed_samples():
    xs = [5.0, 1.0, 2.0, 2.0, 3.0, 100.0, 2.5, 2.2, 1.9, 2.1, 2.05]  # unsorted, one outlier
    s = summarize(xs)
    a = np.asarray(xs)
    assert s["count"] == 11
    assert s["min_ms"] == 1.0 and s["max_ms"] == 100.0
    assert s["median_ms"] == pytest.approx(np.median(a))
    assert s["mean_ms"] == pytest.approx(a.mean())
    assert s["p90_ms"] == pytest.approx(np.percentile(a, 90))
    assert s["p99_ms"] == pytest.approx(np.percentile(a, 99))
    assert s["std_ms"] == pytest.approx(a.std(ddof=1))
    assert s["cv"] == pytest.approx(a.std(ddof=1) / a.mean())


def test_even_count_median_interpolates():
    assert summarize([4, 1, 3, 2])["median_ms"] == pytest.approx(2.5)


def test_single_sample_has_no_spread_rather_than_zero():
    s = summarize([3.0])
    assert s["median_ms"] == 3.0 and s["std_ms"] is None and s["cv"] is None


def test_no_samples_is_a_clear_error():
    with pytest.raises(EdgekitError, match="no latency samples"):
        summarize([])
