"""Response scores from step scores, computed offline and vectorised.

The critic stores step scores only; one number per rollout is made later so that one scoring pass serves
every aggregation. ``mean`` is VisualPRM's (its ``generate_overall_score`` and the paper's default; its
ablation found ``min`` close behind and ``max`` clearly worse); ``min``, ``prod`` and ``last`` are the
usual text-PRM choices (search-and-learn, OpenR); ``max`` is kept for the ablation.

An unscored rollout (no step scores) aggregates to NaN, which every strategy must rank last.

Example:
    >>> aggregate_many([[0.5, 1.0], [], [0.2]], "mean").tolist()
    [0.75, nan, 0.2]
    >>> aggregate([0.5, 0.4], "prod")
    0.2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

AGGREGATIONS = ("mean", "min", "max", "last", "prod")


def aggregate_many(step_scores: Sequence[Sequence[float]], how: str = "mean") -> np.ndarray:
    """One score per rollout (NaN where a rollout has no step scores), over a ragged list in one pass."""
    import numpy as np

    if how not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {how!r}; use one of {', '.join(AGGREGATIONS)}")
    counts = np.fromiter((len(s) for s in step_scores), dtype=np.int64, count=len(step_scores))
    out = np.full(len(step_scores), np.nan)
    has = counts > 0
    if not has.any():
        return out
    flat = np.fromiter((x for s in step_scores for x in s), dtype=np.float64, count=int(counts.sum()))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[has]
    if how == "mean":
        out[has] = np.add.reduceat(flat, starts) / counts[has]
    elif how == "min":
        out[has] = np.minimum.reduceat(flat, starts)
    elif how == "max":
        out[has] = np.maximum.reduceat(flat, starts)
    elif how == "prod":
        out[has] = np.multiply.reduceat(flat, starts)
    else:  # last
        out[has] = flat[starts + counts[has] - 1]
    return out


def aggregate(step_scores: Sequence[float], how: str = "mean") -> float | None:
    """One response score; ``None`` for an unscored rollout."""
    if not step_scores:
        if how not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {how!r}; use one of {', '.join(AGGREGATIONS)}")
        return None
    return float(aggregate_many([step_scores], how)[0])
