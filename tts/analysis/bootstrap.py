"""Confidence intervals by bootstrap over problems.

A benchmark number is a mean over problems, and the problems are the sample that varies between
benchmarks of the same kind; so the interval resamples problems with replacement (percentile bootstrap)
and recomputes every curve's mean at once: one multinomial count matrix times the per-problem values.
The per-problem values of Monte Carlo curves carry their own (small) sampling noise, which the interval
includes.

Example:
    >>> import numpy as np
    >>> low, high = bootstrap_ci(np.array([[0.0], [1.0]] * 50), resamples=200, seed=0)
    >>> bool(0.35 < low[0] < 0.5 < high[0] < 0.65)
    True
"""

from __future__ import annotations

import functools

import numpy as np

DEFAULT_RESAMPLES = 1000


def resample_counts(n_items: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n_items) how often each item is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_items, size=(resamples, n_items))
    flat = (np.arange(resamples)[:, None] * n_items + picks).reshape(-1)
    return np.bincount(flat, minlength=resamples * n_items).reshape(resamples, n_items)


@functools.lru_cache(maxsize=4)
def _counts32(n_items: int, resamples: int, seed: int) -> np.ndarray:
    """:func:`resample_counts` as float32, kept for the next call with the same arguments (a report
    bootstraps both conventions, and every benchmark of one size, with the same resamples); read-only."""
    counts = resample_counts(n_items, resamples, seed).astype(np.float32)
    counts.flags.writeable = False
    return counts


def bootstrap_ci(values: np.ndarray, *, resamples: int = DEFAULT_RESAMPLES, level: float = 0.95,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the mean over rows, for every column of ``values`` (P, K)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError("values must be (problems, curves)")
    p = values.shape[0]
    if p == 0 or resamples < 1:
        nan = np.full(values.shape[1], np.nan)
        return nan, nan.copy()
    # float32 product: the interval ends are quantiles of means, far coarser than float32 rounding
    sums = np.sort(values.astype(np.float32).T @ _counts32(p, resamples, seed).T, axis=1)  # (K, R), sorted
    # (numpy's SIMD sort of float32 rows is several times faster than np.quantile's selection)
    alpha = (1.0 - level) / 2.0
    return _linear_quantile(sums, alpha) / p, _linear_quantile(sums, 1.0 - alpha) / p


def _linear_quantile(sorted_rows: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile of every row of an ascending-sorted array, interpolated linearly between order
    statistics (numpy's default ``linear`` method)."""
    h = q * (sorted_rows.shape[1] - 1)
    lo = int(np.floor(h))
    hi = min(lo + 1, sorted_rows.shape[1] - 1)
    a, b = sorted_rows[:, lo].astype(np.float64), sorted_rows[:, hi].astype(np.float64)
    return a + (b - a) * (h - lo)
