"""From a critic's step scores to one response score, and the exact grid on which scores are compared.

Aggregations (``mean``, ``min``, ``max``, ``last``, ``prod``) reduce a rollout's step scores to one number.
VisualPRM's own default is ``mean`` (its paper's Table 4 compares mean/min/max; ``last`` and ``prod`` are
what search-and-learn uses). An empty step-score list means *unscored*: :func:`aggregate` returns ``None``
and every strategy ranks such a rollout below every scored one.

Why a grid: strategies compare scores and *sums* of scores (weighted vote). Float sums depend on the order
of addition, so the same subset summed in two orders can compare differently, and a strategy evaluated on
one rollout list would then disagree with the vectorised analysis of the same subset. Every comparison
therefore happens on integer *score units*: ``round(score * 2**32)`` (scores clipped to ±64), where sums
are exact and order-free. Two scores closer than 2**-33 are a tie (broken as each strategy documents).

The scalar (:func:`aggregate`) path is the vectorised (:func:`aggregate_many`) one applied to a single
rollout, so the two agree bit for bit.

Example:
    >>> aggregate([0.5, 1.0], "mean"), aggregate([0.5, 1.0], "min"), aggregate([], "mean")
    (0.75, 0.5, None)
    >>> score_units(0.75) == 3 * 2**30
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import overload

import numpy as np

from tts.errors import UnknownName

SCORE_UNIT_BITS = 32
"""Scores are compared as integers ``round(score * 2**SCORE_UNIT_BITS)``."""
SCORE_LIMIT = 64.0
"""Scores are clipped to ``[-SCORE_LIMIT, SCORE_LIMIT]`` before conversion (keeps sums inside int64)."""


def _reducer(how: str) -> Callable[[Sequence[float]], float]:
    def reduce(xs: Sequence[float]) -> float:
        return float(aggregate_many(np.asarray(xs, dtype=np.float64), np.array([len(xs)]), how)[0])

    reduce.__name__ = f"aggregate_{how}"
    return reduce


AGGREGATIONS: dict[str, Callable[[Sequence[float]], float]] = {
    how: _reducer(how) for how in ("mean", "min", "max", "last", "prod")
}
"""Name → reduction of a non-empty step-score sequence to one response score (one path for one rollout
or many, so the selection stage and the vectorised analysis agree bit for bit)."""


def check_aggregation(how: str) -> str:
    """``how`` if it names an aggregation, else a ``KeyError`` listing the known ones."""
    if how not in AGGREGATIONS:
        close = difflib.get_close_matches(how, AGGREGATIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownName(f"unknown aggregation {how!r}{hint}; known: {', '.join(AGGREGATIONS)}")
    return how


def aggregate(step_scores: Sequence[float], how: str = "mean") -> float | None:
    """One response score from step scores; ``None`` for an unscored rollout (no step scores)."""
    check_aggregation(how)
    if len(step_scores) == 0:
        return None
    return AGGREGATIONS[how](step_scores)


def aggregate_many(values: np.ndarray, lengths: np.ndarray, how: str = "mean") -> np.ndarray:
    """Aggregate many rollouts at once: ``values`` holds all step scores back to back, ``lengths`` the
    number of steps of each rollout. Returns float64 with NaN for zero-length (unscored) rollouts.

    >>> aggregate_many(np.array([0.5, 1.0, 0.2]), np.array([2, 0, 1]), "mean")
    array([0.75, nan, 0.2 ])
    """
    if how not in ("mean", "min", "max", "last", "prod"):
        check_aggregation(how)
    values = np.asarray(values, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.full(len(lengths), np.nan)
    scored = lengths > 0
    if not scored.any():
        return out
    ends = np.cumsum(lengths)
    starts = (ends - lengths)[scored]
    if how == "last":
        out[scored] = values[ends[scored] - 1]
        return out
    ufunc = {"mean": np.add, "min": np.minimum, "max": np.maximum, "prod": np.multiply}[how]
    # reduceat over the starts of scored rollouts only: each segment then runs to the next scored start,
    # which is exactly its own steps because unscored rollouts own no values.
    reduced = ufunc.reduceat(values, starts)
    if how == "mean":
        reduced = reduced / lengths[scored]
    out[scored] = reduced
    return out


@overload
def score_units(scores: float | None) -> int: ...
@overload
def score_units(scores: np.ndarray) -> np.ndarray: ...
def score_units(scores: float | np.ndarray | None) -> int | np.ndarray:
    """Scores on the comparison grid (int64); NaN/``None`` (unscored) become 0.

    >>> score_units(np.array([0.5, np.nan, 100.0])).tolist() == [2**31, 0, 64 * 2**32]
    True
    """
    if scores is None:
        return 0
    arr = np.asarray(scores, dtype=np.float64)
    units = np.rint(np.clip(np.nan_to_num(arr, nan=0.0), -SCORE_LIMIT, SCORE_LIMIT) * 2.0**SCORE_UNIT_BITS)
    units = units.astype(np.int64)
    return int(units) if units.ndim == 0 else units
