"""Closed forms: accuracy at every n (1 ≤ n ≤ N) from one run of N samples, without sampling.

All functions return per-problem values, shape ``(P, N)``, column ``n - 1`` for subset size ``n``; the
benchmark number is the mean over problems. "Subsets" means the expectation over all ``C(N, n)``
n-subsets of the N samples, each equally likely (the samples are exchangeable draws from the policy);
"first n" means the first n samples by index, the convention of search-and-learn and of papers that rerun
per budget.

best-of-n over subsets (exact). Rank the N samples once by the best-of-n order (scored before unscored
before missing, higher score first, lower sample index first: the same total order as
:func:`tts.strategies.rank_key`). An n-subset selects its best-ranked member, so the sample at rank ``r``
(0 = best) is selected exactly when it is in the subset and the ``r`` better ones are not:
``P(r selected) = C(N-1-r, n-1) / C(N, n)``. Accuracy is ``Σ_r correct_r · P(r selected)``, one matrix
product for all problems and all n.

pass@n (oracle). The unbiased estimator ``1 - C(N-c, n) / C(N, n)`` with ``c`` correct samples, which is
also the exact subset expectation.

Example:
    >>> import numpy as np
    >>> pass_at_n(np.array([[True, False, False, False]])).round(3).tolist()
    [[0.25, 0.5, 0.75, 1.0]]
"""

from __future__ import annotations

import numpy as np


def best_of_n_order(units: np.ndarray, scored: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(P, N) sample indices, best first: scored > unscored > missing, then score units, then index."""
    p, n = units.shape
    tier = np.where(scored & present, 0, np.where(present, 1, 2))
    idx = np.broadcast_to(np.arange(n), (p, n))
    return np.lexsort((idx, -np.where(tier == 0, units, 0), tier), axis=-1)


def selection_weights(n_samples: int) -> np.ndarray:
    """``W[n-1, r] = C(N-1-r, n-1) / C(N, n)``: probability that rank ``r`` is the best of an n-subset.

    >>> selection_weights(3).round(3).tolist()
    [[0.333, 0.333, 0.333], [0.667, 0.333, 0.0], [1.0, 0.0, 0.0]]
    """
    big_n = n_samples
    ns = np.arange(1, big_n + 1, dtype=np.float64)[:, None]
    r = np.arange(big_n, dtype=np.float64)[None, :]
    # W[n, 0] = n / N and W[n, r+1] / W[n, r] = (N - r - n) / (N - 1 - r): a stable running product.
    ratio = np.clip((big_n - r - ns) / np.maximum(big_n - 1 - r, 1), 0.0, None)
    w = np.concatenate([np.ones((big_n, 1)), np.cumprod(ratio[:, :-1], axis=1)], axis=1) * (ns / big_n)
    return w


def best_of_n_subsets(correct: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Exact expected best-of-n accuracy over all n-subsets, for every n."""
    ranked = np.take_along_axis(correct, order, axis=1).astype(np.float64)
    return ranked @ selection_weights(correct.shape[1]).T


def best_of_n_first_n(correct: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Best-of-n among the first n samples, for every n (0/1 per problem)."""
    p, n = order.shape
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n), (p, n)), axis=1)
    best_rank = np.minimum.accumulate(rank, axis=1)
    chosen = np.take_along_axis(order, best_rank, axis=1)
    return np.take_along_axis(correct, chosen, axis=1).astype(np.float64)


def pass_at_n(correct: np.ndarray) -> np.ndarray:
    """Unbiased pass@n, ``1 - C(N-c, n)/C(N, n)``, for every n (the oracle's exact subset accuracy)."""
    big_n = correct.shape[1]
    c = correct.sum(axis=1)
    # fail[c, n-1] = C(N-c, n) / C(N, n) = prod_{j<c} (N - n - j) / (N - j)
    ns = np.arange(1, big_n + 1, dtype=np.float64)[None, :]
    j = np.arange(big_n, dtype=np.float64)[:, None]
    factors = np.clip((big_n - ns - j) / (big_n - j), 0.0, None)
    fail = np.concatenate([np.ones((1, big_n)), np.cumprod(factors, axis=0)], axis=0)
    return 1.0 - fail[c]


def oracle_first_n(correct: np.ndarray) -> np.ndarray:
    """1 where one of the first n samples is correct."""
    return np.logical_or.accumulate(correct, axis=1).astype(np.float64)


def random_subsets(correct: np.ndarray) -> np.ndarray:
    """Expected accuracy of a uniformly random sample: the mean single-sample accuracy, for every n."""
    return np.repeat(correct.mean(axis=1, keepdims=True), correct.shape[1], axis=1)


def random_first_n(correct: np.ndarray) -> np.ndarray:
    """Expected accuracy of a random one of the first n samples."""
    return np.cumsum(correct, axis=1) / np.arange(1, correct.shape[1] + 1)


def greedy_curve(correct: np.ndarray, greedy: np.ndarray) -> np.ndarray:
    """Correctness of the greedy rollout, constant in n; NaN rows for problems without one."""
    has = greedy >= 0
    value = np.where(has, correct[np.arange(len(greedy)), np.where(has, greedy, 0)], np.nan)
    return np.repeat(value[:, None].astype(np.float64), correct.shape[1], axis=1)


def present_probability(members: np.ndarray, n_samples: int) -> np.ndarray:
    """``P(at least one of m members in a random n-subset) = 1 - C(N-m, n)/C(N, n)`` for every n.

    >>> present_probability(np.array([0, 2]), 3).round(3).tolist()
    [[0.0, 0.0, 0.0], [0.667, 1.0, 1.0]]
    """
    fake = np.arange(n_samples)[None, :] < np.asarray(members)[:, None]
    return pass_at_n(fake)
