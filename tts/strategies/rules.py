"""The selection strategies: pure functions from candidates to the chosen sample index.

Every strategy has the signature ``strategy(candidates, aggregation="mean", *, seed=0) -> int | None``
and is registered by name in :data:`STRATEGIES`. Rules, ties included (the vectorised analysis in
:mod:`tts.analysis` implements exactly the same rules and is tested against these functions):

``best_of_n``
    The highest aggregated score. Ties (scores on the same 2**-32 grid point) go to the lowest sample
    index; unscored rollouts rank below every scored one, so a problem where nothing is scored selects its
    lowest sample index (sample 0 of a full run), as VLMEvalKit's stable sort does.
``weighted_vote``
    Sum of aggregated scores per answer cluster (unscored members add 0); the highest sum wins, then the
    larger cluster, then the lower cluster id (first appearance). The winning cluster's best-ranked
    rollout (``best_of_n`` order) answers. No parsed answer → ``None``.
``majority``
    Self-consistency: the most frequent cluster, ties broken by the summed score, then the lower cluster
    id; the cluster's best-ranked rollout answers. No parsed answer → ``None``.
``greedy``
    The greedy (temperature 0) rollout: the lowest-index candidate flagged ``greedy``; ``None`` when the
    run has none.
``oracle``
    Upper bound (pass@n): the lowest-index correct candidate, else the lowest index.
``random``
    Lower bound: a uniformly random candidate (``seed`` makes it reproducible); the analysis reports its
    expectation, the mean single-sample accuracy.

Example:
    >>> cands = [Candidate(0, (0.2,), "1", 0), Candidate(1, (0.9,), "2", 1), Candidate(2, (0.4,), "1", 0)]
    >>> best_of_n(cands), majority(cands), weighted_vote(cands)
    (1, 2, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tts.registry import Registry
from tts.strategies.candidates import Candidate
from tts.strategies.scores import aggregate, check_aggregation, score_units

Choose = Callable[[Sequence[Candidate], str, int], "int | None"]


@dataclass(frozen=True)
class Strategy:
    """A named selection rule plus what it reads (so callers load only what is needed)."""

    name: str
    choose: Choose
    uses_scores: bool
    uses_clusters: bool
    uses_grades: bool = False
    scores_break_ties_only: bool = False  # well defined without any score (majority: the cluster order decides)

    def __call__(self, candidates: Sequence[Candidate], aggregation: str = "mean", *, seed: int = 0) -> int | None:
        check_aggregation(aggregation)
        if self.uses_clusters:
            missing = [c.sample_idx for c in candidates if c.answer is not None and c.cluster is None]
            if missing:
                raise ValueError(f"{self.name}: candidates {missing} have an answer but no cluster id; "
                                 "fill them with tts.strategies.with_clusters(candidates, problem)")
        return self.choose(candidates, aggregation, seed)

    @property
    def aggregation_free(self) -> bool:
        """True when the choice does not depend on the aggregation (greedy, oracle, random)."""
        return not self.uses_scores

    @property
    def needs_scores(self) -> bool:
        """True when the pick rests on critic scores (best-of-N, the weighted vote): without any, it would be
        the lowest sample index, a number that looks like the strategy's and is not."""
        return self.uses_scores and not self.scores_break_ties_only


STRATEGIES: Registry[Strategy] = Registry("strategy")


def rank_key(c: Candidate, aggregation: str) -> tuple[bool, int, int]:
    """Sort key, larger is better: scored first, then score units, then the lower sample index."""
    s = aggregate(c.step_scores, aggregation)
    return (s is not None, score_units(s) if s is not None else 0, -c.sample_idx)


def _best(candidates: Sequence[Candidate], aggregation: str) -> int | None:
    if not candidates:
        return None
    return max(candidates, key=lambda c: rank_key(c, aggregation)).sample_idx


def _clusters(candidates: Sequence[Candidate], aggregation: str) -> dict[int, tuple[int, int, list[Candidate]]]:
    """cluster id → (member count, summed score units, members)."""
    out: dict[int, tuple[int, int, list[Candidate]]] = {}
    for c in candidates:
        if c.cluster is None:
            continue
        count, total, members = out.get(c.cluster, (0, 0, []))
        out[c.cluster] = (count + 1, total + score_units(aggregate(c.step_scores, aggregation)), members + [c])
    return out


def _vote(candidates: Sequence[Candidate], aggregation: str, by_sum: bool) -> int | None:
    clusters = _clusters(candidates, aggregation)
    if not clusters:
        return None

    def key(item: tuple[int, tuple[int, int, list[Candidate]]]) -> tuple[int, int, int]:
        cid, (count, total, _) = item
        return (total, count, -cid) if by_sum else (count, total, -cid)

    _, (_, _, members) = max(clusters.items(), key=key)
    return _best(members, aggregation)


def best_of_n(candidates: Sequence[Candidate], aggregation: str = "mean", seed: int = 0) -> int | None:
    """The rollout with the highest aggregated critic score (ties → lowest sample index)."""
    return _best(candidates, aggregation)


def weighted_vote(candidates: Sequence[Candidate], aggregation: str = "mean", seed: int = 0) -> int | None:
    """The answer cluster with the largest summed score; its best-ranked rollout answers."""
    return _vote(candidates, aggregation, by_sum=True)


def majority(candidates: Sequence[Candidate], aggregation: str = "mean", seed: int = 0) -> int | None:
    """The most frequent answer cluster (ties → summed score); its best-ranked rollout answers."""
    return _vote(candidates, aggregation, by_sum=False)


def greedy(candidates: Sequence[Candidate], aggregation: str = "mean", seed: int = 0) -> int | None:
    """The greedy rollout, if the run has one among the candidates."""
    flagged = [c.sample_idx for c in candidates if c.greedy]
    return min(flagged) if flagged else None


def oracle(candidates: Sequence[Candidate], aggregation: str = "mean", seed: int = 0) -> int | None:
    """A correct rollout whenever one exists (pass@n upper bound)."""
    right = [c.sample_idx for c in candidates if c.correct]
    if right:
        return min(right)
    return min((c.sample_idx for c in candidates), default=None)


def random_pick(candidates: Sequence[Candidate], aggregation: str = "mean", seed: int = 0) -> int | None:
    """A uniformly random rollout (reproducible from ``seed``)."""
    if not candidates:
        return None
    order = sorted(c.sample_idx for c in candidates)
    return order[int(np.random.default_rng(seed).integers(len(order)))]


for _strategy in (
    Strategy("best_of_n", best_of_n, uses_scores=True, uses_clusters=False),
    Strategy("weighted_vote", weighted_vote, uses_scores=True, uses_clusters=True),
    Strategy("majority", majority, uses_scores=True, uses_clusters=True, scores_break_ties_only=True),
    Strategy("greedy", greedy, uses_scores=False, uses_clusters=False),
    Strategy("oracle", oracle, uses_scores=False, uses_clusters=False, uses_grades=True),
    Strategy("random", random_pick, uses_scores=False, uses_clusters=False),
):
    STRATEGIES.register(_strategy.name, _strategy)
