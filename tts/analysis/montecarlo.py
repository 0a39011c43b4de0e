"""The vectorised Monte Carlo kernel behind majority@n and weighted@n.

A *column* asks: how often does answer cluster ``c`` of problem ``p`` win the vote among the first ``t``
samples of a permutation, for every ``t``? Each cluster's vote is an integer key that grows by one
increment per member that arrives (exact on the score grid, see :mod:`tts.analysis.votes`), so a draw is
a running sum per cluster along the permutation; the target wins at ``t`` when its key beats every
competitor's. Taking the first ``t`` of a uniformly random permutation gives a uniformly random t-subset
for every ``t`` at once, so ``D`` permutations are ``D`` draws for *every* n.

Layout: all columns in a batch share the permutations (one random order of the sample indices per
draw), so the per-step gather is a row copy and every operation is a dense numpy op over
``draws × columns``. Competitor clusters with one member are folded into a single running max (a
singleton's key is fixed once it arrives), so problems with many one-off wrong answers stay cheap.

Key encoding (positive keys): the target's key is ``2·key + 1``; a competitor's is ``2·key + 1`` when its
id is lower than the target's (it wins ties) else ``2·key``, so "target wins" is one strict ``>``.
Competitor maxima start at 2, so an absent target (key 1) never wins. Keys with negative increments
(weighted vote over negative scores) take a slower path that tracks presence explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

TARGET_ELEMENTS = 1 << 17
"""Elements per state array in one step (draw chunk × columns × slots): big enough to amortise Python's
per-call cost, small enough to stay near the CPU caches."""


@dataclass(frozen=True, eq=False)
class Batch:
    """Columns that share a slot layout, with their per-sample increments.

    ``inc[i, s*C + j]`` is the doubled increment of sample ``i`` in slot ``s`` (0 = the target, 1..S the
    multi-member competitors) of column ``j``; ``init`` the slots' starting keys (the tie offsets);
    ``single[i, j]`` the key a singleton competitor has once sample ``i`` arrives (absent: ``floor``).
    """

    columns: np.ndarray  # (C,) column ids
    inc: np.ndarray  # (N, (1+S)*C) int64
    init: np.ndarray  # ((1+S)*C,) int64
    single: np.ndarray | None  # (N, C) int64
    steps: int  # prefix lengths 1..steps are needed
    slots: int  # S
    signed: bool = False
    count_bits: int = 0  # signed path: the low bits of key // 2 hold the member count

    @property
    def width(self) -> int:
        return len(self.columns)


def _wins_positive(b: Batch, perms: np.ndarray) -> np.ndarray:
    c, s, t_max = b.width, b.slots, b.steps
    d = perms.shape[0]
    chunk = max(1, min(d, TARGET_ELEMENTS // ((1 + s) * c)))
    acc = np.zeros((t_max, c), np.int64)
    for d0 in range(0, d, chunk):
        order = perms[d0:d0 + chunk]
        rows = order.shape[0]
        state = np.repeat(b.init[None, :], rows, axis=0)
        best = np.empty((rows, c), np.int64)
        single = np.full((rows, c), 2, np.int64) if b.single is not None else None
        for t in range(t_max):
            idx = order[:, t]
            state += b.inc[idx]
            if single is not None:
                np.maximum(single, b.single[idx], out=single)
                best[...] = single
            else:
                best.fill(2)
            for k in range(1, s + 1):
                np.maximum(best, state[:, k * c:(k + 1) * c], out=best)
            acc[t] += np.count_nonzero(state[:, :c] > best, axis=0)
    return acc


def _wins_signed(b: Batch, perms: np.ndarray) -> np.ndarray:
    c, s, t_max = b.width, b.slots, b.steps
    low = np.int64((1 << b.count_bits) - 1)
    absent = np.iinfo(np.int64).min
    d = perms.shape[0]
    chunk = max(1, min(d, TARGET_ELEMENTS // ((1 + s) * c)))
    acc = np.zeros((t_max, c), np.int64)
    for d0 in range(0, d, chunk):
        order = perms[d0:d0 + chunk]
        rows = order.shape[0]
        state = np.repeat(b.init[None, :], rows, axis=0)
        single = np.full((rows, c), absent, np.int64) if b.single is not None else None
        for t in range(t_max):
            idx = order[:, t]
            state += b.inc[idx]
            present = ((state >> 1) & low) != 0
            keys = np.where(present, state, absent)
            best = np.full((rows, c), absent, np.int64)
            if single is not None:
                np.maximum(single, b.single[idx], out=single)
                np.maximum(best, single, out=best)
            for k in range(1, s + 1):
                np.maximum(best, keys[:, k * c:(k + 1) * c], out=best)
            acc[t] += np.count_nonzero(present[:, :c] & (state[:, :c] > best), axis=0)
    return acc


def batch_wins(batch: Batch, perms: np.ndarray) -> np.ndarray:
    """(steps, C) number of draws in which each column's target wins among the first t samples."""
    return (_wins_signed if batch.signed else _wins_positive)(batch, perms)


def run_batches(batches: Sequence[Batch], perms: np.ndarray, n_columns: int, threads: int = 2) -> np.ndarray:
    """Win rates (n_columns, N) of every column; rows of columns in no batch stay 0. Batches run on a
    thread pool (numpy releases the GIL inside its loops)."""
    n = perms.shape[1]
    rates = np.zeros((n_columns, n))
    if not batches:
        return rates
    d = perms.shape[0]

    def work(b: Batch) -> tuple[Batch, np.ndarray]:
        return b, batch_wins(b, perms)

    ordered = sorted(batches, key=lambda b: -b.steps * b.width * (1 + b.slots))
    if threads > 1 and len(ordered) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(work, ordered))
    else:
        results = [work(b) for b in ordered]
    for b, acc in results:
        rates[b.columns, :b.steps] = acc.T / d
    return rates
