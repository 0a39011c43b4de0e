"""majority@n and weighted@n under the "first n samples" convention: one deterministic prefix per n.

No sampling is needed, so this is not the Monte Carlo of :mod:`tts.analysis.votes` (whose keys, clusters
and correctness it shares): every cluster's key along the sample index is a cumulative sum, and the winner
at n is the cluster holding the largest key among those present (lowest id on ties).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tts.analysis.bounds import sort_by_cluster
from tts.analysis.reference import first_n_draw, vote_reference
from tts.analysis.votes import (
    cluster_sizes,
    first_equal,
    mixed_problems,
    representative_correct,
    vote_increments,
)

FIRST_N_ELEMENTS = 1 << 22
"""(problems × clusters × samples) elements of running keys held at once by the general first-n path."""


def vote_first_n(units: np.ndarray, clusters: np.ndarray, correct: np.ndarray, order: np.ndarray,
                 strategy: str) -> np.ndarray:
    """Per-problem accuracy (P, N) of a vote strategy applied to the first n samples, for every n.

    One deterministic prefix per n needs no sampling. With positive increments a cluster's key only grows,
    so the leading key after sample i is the running maximum, over the samples so far, of each sample's
    cluster key just after it arrived (a cumulative sum within its cluster); the cluster id rides in the
    low bits (lowest id wins ties). Rows with negative increments (weighted vote over negative scores)
    take the general path: every cluster's running key, winner = first present maximum. A cluster counts
    as correct as in :func:`tts.analysis.votes.vote_curves` (its best-ranked member)."""
    return vote_first_n_curves([(units, order, strategy)], clusters, correct)[0]


def vote_first_n_curves(jobs: Sequence[tuple[np.ndarray, np.ndarray, str]], clusters: np.ndarray,
                        correct: np.ndarray) -> list[np.ndarray]:
    """:func:`vote_first_n` of several ``(units, best-of-n order, strategy)`` jobs over the same clusters:
    the samples' order by cluster is computed once for all of them, each ranking's representatives once.
    Problems with a cluster graded both ways take the reference (as in
    :func:`tts.analysis.votes.vote_curves`)."""
    jobs = list(jobs)
    p, n = clusters.shape
    k = cluster_sizes(clusters).shape[1]
    outs = [np.zeros((p, n)) for _ in jobs]
    if k == 0:
        return outs
    mixed = mixed_problems(clusters, correct)
    parsed = clusters >= 0
    layout = _Segments.of(clusters, k)
    same_order = first_equal([order for _, order, _ in jobs])
    reps: dict[int, np.ndarray] = {}
    for j, (out, (units, order, strategy)) in enumerate(zip(outs, jobs)):
        inc = vote_increments(units, clusters, strategy)
        if same_order[j] not in reps:
            reps[same_order[j]] = representative_correct(clusters, correct, order, k)
        rep = reps[same_order[j]]
        general = np.asarray(((inc < 0) & parsed).any(axis=1))
        top = int(np.where(parsed, inc, 0).sum(axis=1).max(initial=0))
        if top.bit_length() + int(k).bit_length() >= 63:  # the encoded keys would overflow
            general[:] = True
        rows = np.nonzero(~general & ~mixed)[0]
        if len(rows) == p:
            out[:] = _first_n_monotone(inc, clusters, rep, k, layout)
        elif len(rows):
            out[rows] = _first_n_monotone(inc[rows], clusters[rows], rep[rows], k, layout.take(rows))
        rows = np.nonzero(general & ~mixed)[0]
        if len(rows):
            out[rows] = _first_n_general(inc[rows], clusters[rows], rep[rows], k)
        if mixed.any():
            out[mixed] = vote_reference(units[mixed], clusters[mixed], correct[mixed], order[mixed], strategy,
                                        first_n_draw(n))
    return outs


@dataclass(frozen=True, eq=False)
class _Segments:
    """Each problem's samples sorted by (cluster, index), unparsed last, and where each cluster's run
    begins: what the monotone path needs besides the increments, the same for every job."""

    order: np.ndarray  # (P, N)
    starts: np.ndarray  # (P, N) bool: the sorted position begins a cluster's run

    @classmethod
    def of(cls, clusters: np.ndarray, k: int) -> _Segments:
        order, sorted_cl = sort_by_cluster(clusters, k)
        starts = np.ones(clusters.shape, bool)
        starts[:, 1:] = sorted_cl[:, 1:] != sorted_cl[:, :-1]
        return cls(order, starts)

    def take(self, rows: np.ndarray) -> _Segments:
        return _Segments(self.order[rows], self.starts[rows])


def _first_n_monotone(inc: np.ndarray, clusters: np.ndarray, rep: np.ndarray, k: int,
                      layout: _Segments | None = None) -> np.ndarray:
    parsed = clusters >= 0
    layout = layout or _Segments.of(clusters, k)
    # each sample's cluster key just after it arrives: a cumulative sum within (problem, cluster) segments
    vals = np.take_along_axis(np.where(parsed, inc, 0), layout.order, axis=1)
    run = np.cumsum(vals, axis=1)
    before = np.where(layout.starts, run - vals, 0)  # the row's running sum where each segment starts
    np.maximum.accumulate(before, axis=1, out=before)  # carried forward (sums only grow along a row)
    seg_keys = np.empty(clusters.shape, np.int64)
    np.put_along_axis(seg_keys, layout.order, run - before, axis=1)
    # leading (key, lowest id) so far, the id complemented in the low bits; a key of 0 is nobody
    # (present clusters have positive keys)
    bits = int(k).bit_length()
    low = (1 << bits) - 1
    coded = np.where(parsed, (seg_keys << bits) | (low - np.maximum(clusters, 0)), 0)
    lead = np.maximum.accumulate(coded, axis=1)
    winner = low - (lead & low)
    return np.take_along_axis(rep, np.minimum(winner, k - 1), axis=1) & (lead > 0)


def _first_n_general(inc: np.ndarray, clusters: np.ndarray, rep: np.ndarray, k: int) -> np.ndarray:
    p, n = clusters.shape
    out = np.zeros((p, n), bool)
    ids = np.arange(k)[None, :, None]
    absent = np.iinfo(np.int64).min
    step = max(1, FIRST_N_ELEMENTS // (k * n))
    for p0 in range(0, p, step):
        member = clusters[p0:p0 + step, None, :] == ids  # (R, K, N)
        keys = np.cumsum(np.where(member, inc[p0:p0 + step, None, :], 0), axis=2)
        present = np.logical_or.accumulate(member, axis=2)
        winner = np.where(present, keys, absent).argmax(axis=1)  # (R, N): the first maximum
        out[p0:p0 + step] = np.take_along_axis(rep[p0:p0 + step], winner, axis=1) & present.any(axis=1)
    return out
