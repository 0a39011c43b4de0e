"""Offline scaling analysis: from one run of N samples, accuracy at every n for every strategy.

Generate once (expensive), then ask cheap questions: load the run into dense arrays once, and every
strategy × aggregation curve, confidence interval and plot is vectorised numpy over those arrays.

Example (any run directory with rollouts, grades and scores):
    >>> from tts.analysis import load_arrays, compute_curves, curve_section   # doctest: +SKIP
    >>> arrays = load_arrays(RunDir.open("runs/x", create=False))             # doctest: +SKIP
    >>> curves = compute_curves(arrays, ["best_of_n", "majority"], ["mean"])  # doctest: +SKIP
    >>> curve_section(curves, ["mean"])["curves"]["mathvista"]["best_of_n"]["mean"]["8"]  # doctest: +SKIP
"""

from tts.analysis.arrays import RunArrays, default_critic, load_arrays
from tts.analysis.bootstrap import bootstrap_ci
from tts.analysis.curves import (
    CONVENTIONS,
    DEFAULT_DRAWS,
    ESTIMATORS,
    Curves,
    benchmark_means,
    compute_curves,
    estimator,
)
from tts.analysis.plots import plot_curves
from tts.analysis.tables import Row, curve_section, default_ns, table_rows

__all__ = [
    "CONVENTIONS",
    "DEFAULT_DRAWS",
    "ESTIMATORS",
    "Curves",
    "Row",
    "RunArrays",
    "benchmark_means",
    "bootstrap_ci",
    "compute_curves",
    "curve_section",
    "default_critic",
    "default_ns",
    "estimator",
    "load_arrays",
    "plot_curves",
    "table_rows",
]
