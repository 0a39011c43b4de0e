"""What a selection strategy sees of one rollout, and answer clusters by the grader's equivalence.

Strategies never look at text: a :class:`Candidate` carries the rollout's sample index, its critic step
scores, its extracted answer, the id of its answer cluster, whether it was graded correct (only the
``oracle`` baseline reads this) and whether it is the greedy rollout.

Answer clusters: two answers are one vote when the grader says they are equivalent (``1/2``, ``0.5`` and
``\\frac{1}{2}`` are one answer), never by string. Cluster ids are numbered by first appearance in sample
order, so "the lower cluster id" means "the answer that appeared first". Unparsed answers form no cluster.

Example:
    >>> canonical_clusters([7, None, 3, 7, 3])
    [0, None, 1, 0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from tts.records import Problem


@dataclass(frozen=True)
class Candidate:
    """One rollout as a strategy sees it.

    ``step_scores`` empty means unscored; ``cluster`` ``None`` means no parsed answer; ``correct`` ``None``
    means not graded.
    """

    sample_idx: int
    step_scores: tuple[float, ...] = ()
    answer: str | None = None
    cluster: int | None = None
    correct: bool | None = None
    greedy: bool = False


def canonical_clusters(ids: Sequence[int | None]) -> list[int | None]:
    """Renumber cluster ids by first appearance (``None`` stays ``None``)."""
    seen: dict[int, int] = {}
    return [None if i is None else seen.setdefault(i, len(seen)) for i in ids]


def cluster_ids(answers: Sequence[str | None], problem: Problem) -> list[int | None]:
    """Cluster ids of extracted answers by the grader's equivalence, numbered by first appearance."""
    from tts.grading import cluster_answers

    if all(a is None for a in answers):
        return [None] * len(answers)
    return canonical_clusters(cluster_answers(list(answers), problem))


def with_clusters(candidates: Sequence[Candidate], problem: Problem) -> list[Candidate]:
    """The candidates (in sample order) with ``cluster`` filled in from their answers."""
    ordered = sorted(candidates, key=lambda c: c.sample_idx)
    ids = cluster_ids([c.answer for c in ordered], problem)
    return [replace(c, cluster=i) for c, i in zip(ordered, ids)]
