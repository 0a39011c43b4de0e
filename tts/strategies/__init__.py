"""Selection strategies (minimal placeholder of the foundation; the selection issue replaces it)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tts.registry import Registry


def _prod(xs: Sequence[float]) -> float:
    return math.prod(xs)


AGGREGATIONS: dict[str, Callable[[Sequence[float]], float]] = {
    "mean": lambda xs: sum(xs) / len(xs),
    "min": min,
    "max": max,
    "last": lambda xs: xs[-1],
    "prod": _prod,
}


def aggregate(step_scores: Sequence[float], how: str = "mean") -> float | None:
    """One response score from step scores; ``None`` for an unscored rollout."""
    if not step_scores:
        return None
    return float(AGGREGATIONS[how](step_scores))


@dataclass(frozen=True)
class Candidate:
    sample_idx: int
    step_scores: tuple[float, ...]
    answer: str | None


Strategy = Callable[[Sequence[Candidate], str], "int | None"]
STRATEGIES: Registry[Strategy] = Registry("strategy")


@STRATEGIES.register("best_of_n")
def best_of_n(candidates: Sequence[Candidate], aggregation: str = "mean") -> int | None:
    """The candidate with the highest aggregated score; ties go to the lowest sample index."""
    best: tuple[float, int] | None = None
    for c in sorted(candidates, key=lambda c: c.sample_idx):
        s = aggregate(c.step_scores, aggregation)
        if s is not None and (best is None or s > best[0]):
            best = (s, c.sample_idx)
    if best is None:
        return min((c.sample_idx for c in candidates), default=None)
    return best[1]
