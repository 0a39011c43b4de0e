"""Which n-subsets force a vote's outcome: bounds on every cluster's key over all n-subsets at once.

An n-subset of N samples holds at least ``lo = max(0, n - (N - m))`` and at most ``hi = min(m, n)`` of a
cluster's ``m`` members, so with positive increments (:func:`tts.analysis.votes.vote_increments`) its key
lies between the sum of its ``lo`` smallest and of its ``hi`` largest increments. A target that beats every
competitor's largest possible key wins every n-subset; one whose largest cannot beat a competitor's
guaranteed key loses every one. :func:`tts.analysis.votes.vote_curves` sets those cells to exactly 1 or 0
and samples only the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from tts.analysis.votes import Columns


def _rival_max(values: np.ndarray, prob_start: np.ndarray, prob_len: np.ndarray, problem: np.ndarray,
               target_off: np.ndarray) -> np.ndarray:
    """(C, N): per column, the largest ``values`` row among its problem's segments other than its target's
    (int64 min where there is none). A problem's segments are rows ``prob_start .. prob_start + prob_len``."""
    c, n = len(problem), values.shape[1]
    out = np.full((c, n), np.iinfo(np.int64).min, np.int64)
    rivals = prob_len[problem] - 1
    has = np.nonzero(rivals > 0)[0]
    if len(has) == 0:
        return out
    counts = rivals[has]
    col = np.repeat(np.arange(len(has)), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    j = np.arange(int(counts.sum())) - first[col]
    seg = prob_start[problem[has]][col] + j + (j >= target_off[has][col])  # skip the target's own segment
    out[has] = np.maximum.reduceat(values[seg], first, axis=0)
    return out


@dataclass(frozen=True, eq=False)
class Runs:
    """Every existing (problem, cluster) pair as a run of its members, in (problem, cluster) order, with
    how many members an n-subset holds of it at least (``lo``) and at most (``hi``), for every n. It
    depends on the clusters only, so all vote jobs of a run share it."""

    start: np.ndarray  # (R,) where the run begins among all parsed members, in (problem, cluster) order
    m: np.ndarray  # (R,) members
    lo: np.ndarray  # (R, N)
    hi: np.ndarray  # (R, N)
    seg_of: np.ndarray  # (P·K,) run index of (problem, cluster), -1 when the cluster is empty
    prob_start: np.ndarray  # (P,) first run of each problem
    prob_len: np.ndarray  # (P,) runs of each problem

    @classmethod
    def of(cls, sizes: np.ndarray, n: int) -> Runs:
        p, k = sizes.shape
        flat_sizes = sizes.reshape(-1)
        exists = np.nonzero(flat_sizes > 0)[0]
        m = flat_sizes[exists]
        start = np.concatenate([[0], np.cumsum(m)[:-1]]).astype(np.int64)
        ns = np.arange(1, n + 1)[None, :]
        lo = np.clip(ns - (n - m[:, None]), 0, m[:, None])
        hi = np.minimum(m[:, None], ns)
        seg_of = np.full(p * k, -1, np.int64)
        seg_of[exists] = np.arange(len(exists))
        prob = exists // max(k, 1)
        return cls(start, m, lo, hi, seg_of, np.searchsorted(prob, np.arange(p)), np.bincount(prob, minlength=p))


def sort_by_cluster(clusters: np.ndarray, k: int, rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(order, sorted clusters): each problem's samples sorted by cluster, unparsed last, and within a
    cluster by ``rank`` (a permutation of 0..N-1 per row; default the sample index). One small-integer
    key per row: the rank in the low digits, the cluster above."""
    n = clusters.shape[1]
    within = np.arange(n)[None, :] if rank is None else rank
    order = np.argsort(np.where(clusters >= 0, clusters, k) * n + within, axis=1)
    return order, np.take_along_axis(clusters, order, axis=1)


def members_by_cluster(scores: np.ndarray, clusters: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, parsed): each problem's samples sorted by (cluster, score), unparsed last, and which sorted
    positions hold a parsed sample. Both vote strategies' increments grow with the score within a
    cluster, so one order (per aggregation) serves both."""
    p, n = clusters.shape
    rank = np.empty((p, n), np.int64)  # each score's rank in its row
    np.put_along_axis(rank, np.argsort(scores, axis=1, kind="stable"), np.arange(n)[None, :], axis=1)
    order, sorted_cl = sort_by_cluster(clusters, k, rank)
    return order, sorted_cl >= 0


def forced_outcomes(inc: np.ndarray, clusters: np.ndarray, sizes: np.ndarray, cols: Columns,
                    runs: Runs | None = None, by_cluster: tuple[np.ndarray, np.ndarray] | None = None):
    """(win, loss) bool (C, N): n-subsets in which the column's target surely wins / surely loses.

    ``runs`` (:meth:`Runs.of`) and ``by_cluster`` (:func:`members_by_cluster` of the scores behind
    ``inc``, or of ``inc`` itself) are computed when not given; callers with several jobs share them."""
    n = clusters.shape[1]
    k = sizes.shape[1]
    runs = runs or Runs.of(sizes, n)
    order, parsed = by_cluster or members_by_cluster(inc, clusters, k)
    vals = np.take_along_axis(inc, order, axis=1)[parsed]
    csum = np.concatenate([[0], np.cumsum(vals)])
    start, m, lo, hi = runs.start, runs.m, runs.lo, runs.hi
    base = csum[start][:, None]
    min_key = csum[start[:, None] + lo] - base  # sum of the lo smallest increments
    total = csum[start + m][:, None] - base
    max_key = total - (csum[start[:, None] + (m[:, None] - hi)] - base)  # sum of the hi largest
    min_loss = np.where(lo >= 1, 2 * min_key, np.iinfo(np.int64).min)  # guaranteed competitor key (offset 0)
    max_win = 2 * max_key + 1  # largest competitor key (offset 1)

    tseg = runs.seg_of[cols.problem * k + cols.target]
    toff = tseg - runs.prob_start[cols.problem]
    rival_max = _rival_max(max_win, runs.prob_start, runs.prob_len, cols.problem, toff)
    rival_sure = _rival_max(min_loss, runs.prob_start, runs.prob_len, cols.problem, toff)
    win = (lo[tseg] >= 1) & (2 * min_key[tseg] + 1 > np.maximum(rival_max, 2))
    loss = 2 * max_key[tseg] + 1 <= rival_sure
    return win, loss
