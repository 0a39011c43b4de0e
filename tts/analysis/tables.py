"""Curves as report data: nested JSON-ready dicts with confidence intervals, and table rows at chosen n.

Shape (what ``report.json`` stores, percentages rounded to 4 decimals)::

    curves[benchmark][strategy][aggregation][str(n)]   = accuracy (%)
    ci_low[benchmark][strategy][aggregation][str(n)]   = lower end of the 95% interval (%)
    ci_high[benchmark][strategy][aggregation][str(n)]  = upper end (%)

Strategies that do not read scores (greedy, oracle, random) appear under every aggregation with the same
values, so any ``[strategy][aggregation]`` lookup works.

:func:`overall_curve_section` adds the model card's "Overall" column as a curve: the unweighted mean of
the benchmarks' accuracies (the seven of the card when the run has them all, else every benchmark of the
run, named ``"Mean"``), its interval by a bootstrap that resamples each benchmark's problems separately.

Example:
    >>> import numpy as np
    >>> from tts.analysis.curves import Curves
    >>> c = Curves({("oracle", None): np.array([[0.5, 1.0], [0.0, 0.0]])}, np.array(["demo", "demo"]))
    >>> section = curve_section(c, ["mean"], resamples=50)
    >>> section["curves"]["demo"]["oracle"]["mean"]
    {'1': 25.0, '2': 50.0}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tts.analysis.bootstrap import DEFAULT_RESAMPLES, bootstrap_ci, resample_counts
from tts.analysis.curves import Curves


def _pcts(values: np.ndarray) -> list[float | None]:
    """Fractions as percentages rounded to 4 decimals, NaN as ``None`` (JSON null); vectorised, as a report
    holds thousands."""
    return [None if v != v else v for v in np.round(np.asarray(values, np.float64) * 100.0, 4).tolist()]


def curve_section(curves: Curves, aggregations: Sequence[str], *, resamples: int = DEFAULT_RESAMPLES,
                  level: float = 0.95, seed: int = 0) -> dict[str, dict[str, Any]]:
    """``{"curves": ..., "ci_low": ..., "ci_high": ...}`` for every benchmark, strategy and aggregation."""
    out: dict[str, dict[str, Any]] = {"curves": {}, "ci_low": {}, "ci_high": {}}
    keys = list(curves.values)
    n = curves.n_samples
    for bench in sorted(set(curves.benchmarks.tolist())):
        rows = curves.benchmarks == bench
        stacked = np.concatenate([curves.values[k][rows] for k in keys], axis=1) if keys else np.zeros((rows.sum(), 0))
        mean = stacked.mean(axis=0)
        low, high = bootstrap_ci(stacked, resamples=resamples, level=level, seed=seed)
        labels = [str(j + 1) for j in range(n)]
        for name, data in (("curves", mean), ("ci_low", low), ("ci_high", high)):
            per_bench: dict[str, dict[str, dict[str, float | None]]] = {}
            pct = _pcts(data)
            for i, (strategy, agg) in enumerate(keys):
                series = dict(zip(labels, pct[i * n:(i + 1) * n]))
                for a in ([agg] if agg is not None else list(aggregations)):
                    per_bench.setdefault(strategy, {})[a] = series
            out[name][bench] = per_bench
    return out


def overall_curve_section(curves: Curves, aggregations: Sequence[str], *, resamples: int = DEFAULT_RESAMPLES,
                          level: float = 0.95, seed: int = 0) -> dict[str, Any] | None:
    """The "Overall" curve: ``{"name", "benchmarks", "curves", "ci_low", "ci_high"}`` with the blocks keyed
    ``[strategy][aggregation][str(n)]``; ``None`` for a run of one benchmark.

    The mean is over the seven benchmarks of the card's Overall when all seven are in the run (``name`` is
    ``"Overall"``), else over every benchmark of the run (``"Mean"``). Each bootstrap resample draws every
    benchmark's problems with replacement within that benchmark (a stratified bootstrap), so the interval
    is that of a mean of benchmark means, not of a pooled mean.
    """
    from tts.metrics import OVERALL_BENCHMARKS

    present = set(curves.benchmarks.tolist())
    if len(present) < 2:
        return None
    full = set(OVERALL_BENCHMARKS) <= present
    benches = list(OVERALL_BENCHMARKS) if full else sorted(present)
    keys = list(curves.values)
    n = curves.n_samples
    means = np.zeros(len(keys) * n)
    boot = np.zeros((len(keys) * n, max(resamples, 1)))
    for k, bench in enumerate(benches):
        rows = curves.benchmarks == bench
        stacked = np.concatenate([curves.values[key][rows] for key in keys], axis=1) if keys else np.zeros((rows.sum(), 0))
        means += stacked.mean(axis=0) / len(benches)
        if resamples >= 1:
            counts = resample_counts(stacked.shape[0], resamples, seed + k).astype(np.float64)
            boot += (stacked.T @ counts.T) / stacked.shape[0] / len(benches)
    if resamples >= 1:
        alpha = (1.0 - level) / 2.0
        low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=1)
    else:
        low = high = np.full(len(keys) * n, np.nan)
    out: dict[str, Any] = {"name": "Overall" if full else "Mean", "benchmarks": benches}
    labels = [str(j + 1) for j in range(n)]
    for name, data in (("curves", means), ("ci_low", low), ("ci_high", high)):
        block: dict[str, dict[str, dict[str, float | None]]] = {}
        pct = _pcts(data)
        for i, (strategy, agg) in enumerate(keys):
            series = dict(zip(labels, pct[i * n:(i + 1) * n]))
            for a in ([agg] if agg is not None else list(aggregations)):
                block.setdefault(strategy, {})[a] = series
        out[name] = block
    return out


@dataclass(frozen=True)
class Row:
    """One printed row: a benchmark, strategy and aggregation at the chosen n values."""

    benchmark: str
    strategy: str
    aggregation: str | None
    cells: tuple[tuple[float | None, float | None, float | None], ...]  # (accuracy, ci_low, ci_high) per n


def table_rows(section: dict[str, Any], ns: Sequence[int], aggregation_free: Sequence[str] = ()) -> list[Row]:
    """Rows of the headline table; aggregation-free strategies get one row (aggregation ``None``)."""
    rows: list[Row] = []
    for bench, strategies in section["curves"].items():
        for strategy, per_agg in strategies.items():
            aggs = [next(iter(per_agg))] if strategy in aggregation_free else list(per_agg)
            for agg in aggs:
                cells = tuple(
                    (per_agg[agg].get(str(n)), section["ci_low"][bench][strategy][agg].get(str(n)),
                     section["ci_high"][bench][strategy][agg].get(str(n)))
                    for n in ns
                )
                rows.append(Row(bench, strategy, None if strategy in aggregation_free else agg, cells))
    return rows


def default_ns(n_samples: int) -> list[int]:
    """Powers of two up to N, and N itself.

    >>> default_ns(12)
    [1, 2, 4, 8, 12]
    """
    ns = [1 << k for k in range(n_samples.bit_length()) if (1 << k) <= n_samples]
    return ns + ([n_samples] if n_samples not in ns else [])
