"""What an accuracy curve means, stated plainly: a strategy applied to the first n samples of seeded
permutations, averaged. The fast estimators (:mod:`tts.analysis.exact`, :mod:`tts.analysis.votes`) are
held equal to these definitions by the tests, and :func:`strategy_reference` is also the estimator of a
strategy registered without a vectorised one.

Conventions (``P`` problems, ``N`` samples, ``D`` permutations, see :mod:`tts.analysis.curves`):

- *subsets*: the first n samples of a uniformly random permutation are a uniformly random n-subset, so
  the accuracy at n is the mean over ``D`` seeded permutations (:func:`tts.analysis.curves.permutations`)
  of "the strategy's choice among the first n is correct". With all ``N!`` permutations it is the exact
  expectation over n-subsets.
- *first n*: the samples in index order as the only draw (:func:`first_n_draw`).

A missing rollout takes up its place in the order but is no candidate; a rollout without a parsed
answer casts no vote; nothing chosen counts as wrong.

Example (majority among "a a b", ties to the answer that appeared first):
    >>> import numpy as np
    >>> clusters, correct = np.array([[0, 1, 0]]), np.array([[True, False, True]])
    >>> units, order = np.zeros((1, 3), np.int64), np.array([[0, 1, 2]])
    >>> vote_reference(units, clusters, correct, order, "majority", first_n_draw(3)).tolist()
    [[1.0, 1.0, 1.0]]
"""

from __future__ import annotations

from bisect import insort
from operator import attrgetter

import numpy as np

from tts.analysis.arrays import RunArrays
from tts.strategies import STRATEGIES, Candidate


def first_n_draw(n_samples: int) -> np.ndarray:
    """The first-n convention's only draw: the samples in index order, shape (1, N)."""
    return np.arange(n_samples)[None, :]


def vote_reference(units: np.ndarray, clusters: np.ndarray, correct: np.ndarray, order: np.ndarray,
                   strategy: str, perms: np.ndarray) -> np.ndarray:
    """(P, N) accuracy of ``majority`` or ``weighted_vote`` (the rules of :mod:`tts.strategies.rules`).

    Each answer cluster's vote among the samples drawn so far is a pair of integers: (members, summed
    score units) for majority, (summed score units, members) for weighted vote; unscored members add 0
    units. Score units are exact integers (:func:`tts.strategies.score_units`: scores closer than 2**-33
    are one point of the grid), so equal means equal, and exact ties go to the lower cluster id
    (the answer that appeared first). The answer is the winning cluster's best-ranked member among those
    drawn (``order`` is :func:`tts.analysis.exact.best_of_n_order`). The kernel's "near ties" are not a
    rule: they are cells its coarse int32 keys cannot decide, which it recomputes from these exact keys."""
    if strategy not in ("majority", "weighted_vote"):
        raise KeyError(f"not a vote strategy: {strategy!r}; known: majority, weighted_vote")
    p_count, n = clusters.shape
    rank = np.argsort(order, axis=1)  # rank[p, i]: sample i's place in the best-of-n order
    lowest = np.iinfo(np.int64).min
    out = np.zeros((p_count, n))
    for p in range(p_count):
        k = int(clusters[p].max()) + 1
        if k == 0:
            continue  # no parsed answer: nothing is ever chosen
        member = clusters[p][perms][:, None, :] == np.arange(k)[None, :, None]  # (D, K, t): t-th drawn sample
        count = member.cumsum(axis=2)
        total = np.where(member, units[p][perms][:, None, :], 0).cumsum(axis=2)
        first, second = (total, count) if strategy == "weighted_vote" else (count, total)
        present = count > 0
        tied = present & (first == np.where(present, first, lowest).max(axis=1, keepdims=True))
        tied &= second == np.where(tied, second, lowest).max(axis=1, keepdims=True)
        winner = tied.argmax(axis=1)  # (D, t): the lowest cluster id among the best keys
        best_rank = np.minimum.accumulate(np.where(member, rank[p][perms][:, None, :], n), axis=2)
        chosen_rank = np.take_along_axis(best_rank, winner[:, None, :], axis=1)[:, 0]
        chosen_ok = correct[p][order[p]][np.minimum(chosen_rank, n - 1)] & present.any(axis=1)
        out[p] = chosen_ok.mean(axis=0)
    return out


CLOSED_FORM_TOLERANCE = 5.0
"""Standard errors: how far the reference's estimate from ``D`` draws may lie from an exact closed-form
value before :func:`agreement` calls it a disagreement (one cell in about 1.7 million lies further by
chance). Measured on the exact binomial tail, expressed as the normal deviate of the same probability."""


def agreement(estimate: np.ndarray, reference: np.ndarray, closed: np.ndarray, draws: int) -> tuple[float, float]:
    """How an estimator computed with the same ``draws`` permutations agrees with the reference:
    ``(largest |difference| where the estimator counts the same draws, largest deviation on the ``closed``
    cells in standard errors)``. The first must be 0 up to float summation (1e-12): same draws, same exact
    keys, same counts. On a closed cell the estimator holds the exact value ``q`` and the reference a mean
    of ``draws`` outcomes of probability ``q``; an exact 0 or 1 must be met exactly (every draw agrees).

    Why an exact tail: near 0 or 1 the normal approximation fails (one miss in 200 draws of q = 0.9999 is
    a 2% event but "6.6 standard errors"), so a cell the normal deviate flags is measured again on the
    binomial tail ``P(X <= k)`` or ``P(X >= k)`` and reported as the normal deviate of that probability."""
    diff = np.abs(estimate - reference)
    q = np.clip(estimate, 0.0, 1.0)
    se = np.sqrt(q * (1.0 - q) / draws)
    z = np.where(se > 1e-9, diff / np.maximum(se, 1e-9), np.where(diff > 1e-12, np.inf, 0.0))
    for cell in zip(*np.nonzero(closed & (z > 3.0)), strict=True):  # rare: measure exactly
        z[cell] = _binomial_deviate(float(q[cell]), int(round(float(reference[cell]) * draws)), draws)
    return float(diff[~closed].max(initial=0.0)), float(z[closed].max(initial=0.0))


def _binomial_deviate(q: float, k: int, draws: int) -> float:
    """The two-sided normal deviate with the probability of a count at least as far from ``draws * q`` as
    ``k`` under Binomial(draws, q); ``inf`` for an impossible count.

    >>> round(_binomial_deviate(0.5, 50, 100), 6), _binomial_deviate(1.0, 199, 200)
    (0.0, inf)
    >>> _binomial_deviate(0.9999, 199, 200) < 3 < _binomial_deviate(0.9999, 190, 200)
    True
    """
    from math import lgamma, log
    from statistics import NormalDist

    if q <= 0.0 or q >= 1.0:
        return 0.0 if k == round(q * draws) else float("inf")
    ks = np.arange(0, k + 1) if k <= draws * q else np.arange(k, draws + 1)
    log_pmf = np.array([lgamma(draws + 1) - lgamma(i + 1) - lgamma(draws - i + 1) for i in ks])
    log_pmf += ks * log(q) + (draws - ks) * log(1.0 - q)
    p_two_sided = min(1.0, 2.0 * float(np.exp(log_pmf).sum()))
    if p_two_sided <= 0.0:
        return float("inf")
    return -NormalDist().inv_cdf(p_two_sided / 2.0) if p_two_sided < 1.0 else 0.0


_sample_idx = attrgetter("sample_idx")


def candidates(arrays: RunArrays, problem: int, aggregation: str) -> list[Candidate | None]:
    """Every sample of a problem as the strategy functions see it (``None`` for a missing rollout).

    The arrays keep each rollout's aggregated score, not its step scores, so the score is passed as the
    only step: every aggregation of one step is that step, so a strategy reading scores through
    :func:`tts.strategies.aggregate` sees exactly its score. Answers are known by cluster, not text."""
    scores = arrays.scores.get(aggregation)
    out: list[Candidate | None] = []
    for i in range(arrays.n_samples):
        if not arrays.present[problem, i]:
            out.append(None)
            continue
        steps = () if scores is None or np.isnan(scores[problem, i]) else (float(scores[problem, i]),)
        cluster = int(arrays.clusters[problem, i])
        out.append(Candidate(i, steps, None, None if cluster < 0 else cluster, bool(arrays.correct[problem, i]),
                             bool(arrays.greedy[problem] == i)))
    return out


def strategy_reference(arrays: RunArrays, strategy: str, aggregation: str, perms: np.ndarray, *, seed: int = 0,
                       rows: np.ndarray | None = None) -> np.ndarray:
    """(len(rows), N) accuracy of any registered strategy: its function called on the candidates among
    the first n samples of each permutation (in sample order, as the selection stage passes them, with
    the selection stage's per-problem seed), for ``rows`` (default: every problem).

    A strategy is a function of the candidate set, so a set seen before (same samples drawn, in any
    order) is looked up, not recomputed: with few samples most prefixes repeat."""
    from tts.engines.base import problem_seed

    spec = STRATEGIES.get(strategy)
    rows = np.arange(arrays.n_problems) if rows is None else rows
    out = np.zeros((len(rows), arrays.n_samples))
    orders = perms.tolist()
    for j, p in enumerate(rows):
        cands = candidates(arrays, int(p), aggregation)
        problem_rng_seed = problem_seed(seed, arrays.problem_ids[p])
        known: dict[int, bool] = {}
        hits = [0] * arrays.n_samples
        for perm in orders:
            drawn, chosen = 0, list[Candidate]()  # the samples so far as a bit set, and their candidates in sample order
            for t, i in enumerate(perm):
                drawn |= 1 << i
                cand = cands[i]
                if cand is not None:
                    insort(chosen, cand, key=_sample_idx)
                if drawn not in known:
                    pick = spec(tuple(chosen), aggregation, seed=problem_rng_seed)
                    known[drawn] = pick is not None and bool(arrays.correct[p, pick])
                hits[t] += known[drawn]
        out[j] = np.asarray(hits) / len(perms)
    return out
