"""majority@n and weighted@n under the "first n samples" convention: one deterministic prefix per n.

No sampling is needed, so this is not the Monte Carlo of :mod:`tts.analysis.votes` (whose keys, clusters
and correctness it shares): every cluster's key along the sample index is a cumulative sum, and the winner
at n is the cluster holding the largest key among those present (lowest id on ties).
"""

from __future__ import annotations

import numpy as np

from tts.analysis.votes import cluster_sizes, representative_correct, vote_increments

FIRST_N_ELEMENTS = 1 << 22
"""(problems × clusters × samples) elements of running keys held at once by the general first-n path."""


def vote_first_n(units: np.ndarray, clusters: np.ndarray, correct: np.ndarray, order: np.ndarray,
                 strategy: str) -> np.ndarray:
    """Per-problem accuracy (P, N) of a vote strategy applied to the first n samples, for every n.

    One deterministic prefix per n needs no sampling. With positive increments a cluster's key only grows,
    so the leading key after sample i is the running maximum, over the samples so far, of each sample's
    cluster key just after it arrived (a cumulative sum within its cluster); the cluster id rides in the
    low digits (lowest id wins ties). Rows with negative increments (weighted vote over negative scores)
    take the general path: every cluster's running key, winner = first present maximum. A cluster counts
    as correct as in :func:`tts.analysis.votes.vote_curves` (its best-ranked member)."""
    p, n = clusters.shape
    out = np.zeros((p, n))
    inc = vote_increments(units, clusters, strategy)
    k = cluster_sizes(clusters).shape[1]
    if k == 0:
        return out
    rep = representative_correct(clusters, correct, order, k)
    parsed = clusters >= 0
    general = ((inc < 0) & parsed).any(axis=1)
    top = int(np.where(parsed, inc, 0).sum(axis=1).max(initial=0))
    if top >= np.iinfo(np.int64).max // (k + 1):  # the encoded keys would overflow
        general[:] = True
    rows = np.nonzero(~general)[0]
    if len(rows):
        out[rows] = _first_n_monotone(inc[rows], clusters[rows], rep[rows], k)
    rows = np.nonzero(general)[0]
    if len(rows):
        out[rows] = _first_n_general(inc[rows], clusters[rows], rep[rows], k)
    return out


def _first_n_monotone(inc: np.ndarray, clusters: np.ndarray, rep: np.ndarray, k: int) -> np.ndarray:
    p, n = clusters.shape
    parsed = clusters >= 0
    # each sample's cluster key just after it arrives: a cumulative sum within (problem, cluster) segments
    by_cluster = np.argsort(np.where(parsed, clusters, k) * n + np.arange(n)[None, :], axis=1)
    vals = np.take_along_axis(np.where(parsed, inc, 0), by_cluster, axis=1)
    sorted_cl = np.take_along_axis(clusters, by_cluster, axis=1)
    run = np.cumsum(vals, axis=1)
    new_segment = np.ones((p, n), bool)
    new_segment[:, 1:] = sorted_cl[:, 1:] != sorted_cl[:, :-1]
    before = np.where(new_segment, run - vals, 0)  # the row's running sum where each segment starts
    np.maximum.accumulate(before, axis=1, out=before)  # carried forward (sums only grow along a row)
    seg_keys = np.empty((p, n), np.int64)
    np.put_along_axis(seg_keys, by_cluster, run - before, axis=1)
    # leading (key, lowest id) so far; a key of 0 is nobody (present clusters have positive keys)
    coded = np.where(parsed, seg_keys * (k + 1) + (k - np.maximum(clusters, 0)), 0)
    lead = np.maximum.accumulate(coded, axis=1)
    winner = k - lead % (k + 1)
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
