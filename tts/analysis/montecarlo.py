"""The vectorised Monte Carlo kernel behind majority@n and weighted@n.

A *column* asks: how often does answer cluster ``c`` of problem ``p`` win the vote among the first ``t``
samples of a permutation, for every ``t``? Each cluster's vote is an integer key that grows by one
increment per member that arrives (exact on the score grid, see :mod:`tts.analysis.votes`), so a draw is
a running sum per cluster along the permutation; the target wins at ``t`` when its key beats every
competitor's. Taking the first ``t`` of a uniformly random permutation gives a uniformly random t-subset
for every ``t`` at once, so ``D`` permutations are ``D`` draws for *every* n.

Layout: all columns in a batch share the permutations (one random order of the sample indices per
draw), so the per-step gather is a row copy and every operation is a dense numpy op over
``draws × slots × columns``. Competitor clusters with one member are folded into a single running max (a
singleton's key is fixed once it arrives), so problems with many one-off wrong answers stay cheap.
The state is laid out lane-major, ``(lanes, draws, columns)``, so every elementwise step runs over
contiguous slabs, and one ``take`` gathers all lanes at once. A lane holds, per competitor slot, the
coarse *margin* of the target over that competitor (minus ``τ``, see :func:`_lane_table`), plus the
target's own key where singletons compete; so the margin against the best competitor is a minimum.
Batches are wide (all vote curves of a run share them, :func:`tts.analysis.votes.vote_curves`) and run in
chunks of at most 255 draws: numpy's per-row costs (the per-column win counts are a reduction over draws)
and per-call costs both fall with width.

Key encoding (positive keys): the target's key is ``2·key + 1``; a competitor's is ``2·key + 1`` when its
id is lower than the target's (it wins ties) else ``2·key``, so "target wins" is one strict ``>``.
Competitor maxima start at 2, so an absent target (key 1) never wins.

Why the running keys are int32 although the exact keys need ~46 bits: int32 arithmetic is about three
times faster here and the kernel is memory bound. The kernel keeps *coarse* keys ``K̂ = Σ (inc >> k)``
with the shift ``k`` that keeps them below 2**30. Flooring loses less than ``2**k`` per member, so with
``τ`` samples drawn the exact keys satisfy ``2**k·K̂ ≤ K ≤ 2**k·K̂ + 1 + τ·(2**k - 1)``, and the coarse
margin ``M = K̂_target - K̂_best`` decides the vote exactly whenever ``M ≥ τ`` (the target surely wins)
or ``M ≤ -(τ + 1)`` (surely loses). The rare draws in between (near-ties: keys within ``τ`` coarse
units of each other, about 0.025% of the cells on the benchmark's data once n = 1 is decided by
membership) are recomputed from the exact int64 increments of the samples drawn so far
(:func:`resolve_exact`). The counts are therefore bit-for-bit those of exact keys.
Keys with negative increments (weighted vote over negative scores) take a slower exact int64 path that
tracks presence explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tts.analysis.forked import forked_map, resolve_workers

TARGET_ELEMENTS = 1 << 17
"""Elements per state array in one step (draw chunk × lanes × columns): big enough to amortise Python's
per-call cost, small enough that a state array fits a core's L2 cache (two worker processes then scale
better than with larger arrays)."""
COARSE_BITS = 30
"""Coarse keys stay below 2**COARSE_BITS, so margins (and margins plus τ) fit int32."""
PARALLEL_WORK = 10**8
"""Lane-steps (draws × steps × lanes, about a nanosecond each) from which worker processes pay off."""
MAX_ROWS = 255
"""Draws per chunk at most, so per-column win counts of a step fit uint8 (see :func:`_count`)."""
RESOLVE_ELEMENTS = 1 << 20
"""Elements gathered at once when recomputing near-ties exactly."""


@dataclass(frozen=True, eq=False)
class Batch:
    """Columns of one layout (competitor slots, singleton competitors or not, signed or not) and similar
    length, with their per-sample increments.

    ``inc[i, s, j]`` is the doubled increment of sample ``i`` in slot ``s`` (0 = the target, 1..S the
    multi-member competitors; zero in a padded slot) of column ``j``; ``init`` the slots' starting keys
    (the tie offsets); ``single[i, j]`` the key a singleton competitor has once sample ``i`` arrives
    (absent: ``floor``).
    """

    columns: np.ndarray  # (C,) column ids
    inc: np.ndarray  # (N, 1+S, C) int64
    init: np.ndarray  # (1+S, C) int64
    single: np.ndarray | None  # (N, C) int64
    steps: int  # prefix lengths 1..steps are needed (by the batch's longest column)
    signed: bool = False
    count_bits: int = 0  # signed path: the low bits of key // 2 hold the member count

    @property
    def width(self) -> int:
        return len(self.columns)

    @property
    def slots(self) -> int:
        return self.inc.shape[1] - 1

    @property
    def own_lane(self) -> bool:
        """The positive kernel tracks the target's own key: against singletons, or when there is no slot."""
        return self.single is not None or not self.slots

    @property
    def lanes(self) -> int:
        """Running sums per draw in the positive kernel: a margin per competitor slot, plus the target's own
        key and the singleton maximum where there are singletons (the own key alone where nothing else)."""
        return self.width * (self.slots + self.own_lane + (self.single is not None))


def coarse_shift(b: Batch) -> int:
    """The smallest shift ``k ≥ 1`` that keeps every coarse key of a positive batch below 2**COARSE_BITS
    (at least 1 so the tie offsets drop out of the coarse keys; the near-tie test covers them)."""
    top = int(b.init.max(initial=0)) + int(b.inc.sum(axis=0).max(initial=0))
    if b.single is not None:
        top = max(top, int(b.single.max(initial=0)))
    return max(1, top.bit_length() - COARSE_BITS)


def resolve_exact(b: Batch, order: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                  t: int | np.ndarray) -> np.ndarray:
    """Exact outcome (bool per event) of the vote among the first ``t + 1`` samples of ``order[rows]`` for
    batch columns ``cols`` (``t`` one prefix for all events or one per event): the keys are summed from the
    exact int64 increments."""
    s1 = b.inc.shape[1]
    ts = np.broadcast_to(np.asarray(t, np.int64), rows.shape)
    by_t = np.argsort(ts, kind="stable")
    sorted_t = ts[by_t]
    out = np.empty(len(rows), bool)
    slot_ids = np.arange(s1)[None, None, :]
    e0 = 0
    while e0 < len(rows):
        # events of similar length together (at most twice the shortest), so little work is masked out
        longest = 2 * int(sorted_t[e0]) + 1
        e1 = min(int(np.searchsorted(sorted_t, longest, side="right")),
                 e0 + max(1, RESOLVE_ELEMENTS // ((longest + 1) * (s1 + 1))))
        pick = by_t[e0:e1]
        e0 = e1
        r, c, te = rows[pick], cols[pick], ts[pick]
        tau = int(te.max()) + 1
        samples = order[r, :tau]  # (E, τ)
        drawn = np.arange(tau)[None, :] <= te[:, None]
        gathered = np.where(drawn[:, :, None], b.inc[samples[:, :, None], slot_ids, c[:, None, None]], 0)
        keys = b.init[:, c].T + gathered.sum(axis=1)  # (E, 1+S)
        best = np.full(len(r), 2, np.int64)
        if s1 > 1:
            np.maximum(best, keys[:, 1:].max(axis=1), out=best)
        if b.single is not None:
            np.maximum(best, np.where(drawn, b.single[samples, c[:, None]], 2).max(axis=1), out=best)
        out[pick] = keys[:, 0] > best
    return out


def _lane_table(b: Batch, k: int) -> np.ndarray:
    """(L, N, C) int32 per-sample lane increments of the coarse kernel: for every multi-member slot ``j``
    the target-minus-competitor difference ``(inc0 >> k) - (incj >> k) - 1``, then, when the batch has
    singleton competitors or no slot at all, the target's own ``(inc0 >> k) - 1``.

    A difference lane's running sum is the coarse margin against that competitor directly (one lane per
    competitor instead of two keys and a subtraction), and the ``-1`` per sample makes it the margin minus
    ``τ``, so the sure-win test is a sign test. The starting keys (tie offsets, at most 1) vanish under the
    shift ``k ≥ 1``."""
    coarse = (b.inc >> k).astype(np.int32).transpose(1, 0, 2)  # (1+S, N, C)
    lanes = [coarse[:1] - coarse[1:] - 1] if b.slots else []
    if b.own_lane:
        lanes.append(coarse[:1] - 1)
    return np.ascontiguousarray(np.concatenate(lanes, axis=0))


def _wins_positive(b: Batch, perms: np.ndarray) -> np.ndarray:
    n_cols, s, t_max = b.width, b.slots, b.steps
    k = coarse_shift(b)
    tab = _lane_table(b, k)
    stab = None if b.single is None else (b.single >> k).astype(np.int32)
    member = b.inc[:, 0, :] > 0  # (N, C): sample i is in column j's target cluster
    floor = np.int32(2 >> k)
    near_from = ((1 << 32) - 2 * np.arange(1, t_max + 1)).astype(np.uint32)  # u in [-2τ, 0) as uint32 (a
    # uint32 threshold: an int64 one would make numpy compare in int64, four times slower)
    d = perms.shape[0]
    chunk = max(1, min(d, MAX_ROWS, TARGET_ELEMENTS // b.lanes))
    acc = np.zeros((t_max, n_cols), np.int64)
    events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for d0 in range(0, d, chunk):
        order = perms[d0:d0 + chunk]
        rows = order.shape[0]
        state = np.zeros((tab.shape[0], rows, n_cols), np.int32)  # lane-major: every lane a contiguous slab
        smax = None if stab is None else np.full((rows, n_cols), floor, np.int32)
        u = np.empty((rows, n_cols), np.int32)  # min over the lanes of (coarse margin - τ)
        for t in range(t_max):
            idx = order[:, t]
            state += np.take(tab, idx, axis=1)
            if smax is not None and stab is not None:
                np.maximum(smax, np.take(stab, idx, axis=0), out=smax)
            if t == 0:  # one sample: the target wins iff it is a member (its coarse keys tie when it is absent)
                acc[0] += _count(np.take(member, idx, axis=0))
                continue
            if smax is not None:
                np.subtract(state[s], smax, out=u)
                for lane in state[:s]:
                    np.minimum(u, lane, out=u)
            elif s == 1:
                u = state[0]  # read only
            elif s:
                np.minimum(state[0], state[1], out=u)
                for lane in state[2:]:
                    np.minimum(u, lane, out=u)
            else:
                np.subtract(state[0], floor, out=u)
            acc[t] += _count(u >= 0)  # coarse margin >= τ: the target surely wins
            # -τ <= margin < τ: the coarse keys cannot tell. As uint32 the negative u closest to 0 is the
            # largest value, so a read-only max finds whether any such cell exists (twice as fast as a
            # comparison that writes a mask); the mask is built only then (one step in seven on the
            # benchmark's data).
            if u.view(np.uint32).max() >= near_from[t]:
                r, c = np.divmod(np.flatnonzero(u.view(np.uint32) >= near_from[t]), n_cols)
                events.append((r + d0, np.full(len(r), t), c))
    if events:
        ev_rows, ev_steps, ev_cols = (np.concatenate(x) for x in zip(*events))
        won = resolve_exact(b, perms, ev_rows, ev_cols, ev_steps)
        np.add.at(acc, (ev_steps[won], ev_cols[won]), 1)
    return acc


def _count(flags: np.ndarray) -> np.ndarray:
    """Per-column number of true rows (a uint8 sum is about twice as fast as ``count_nonzero``, and faster
    still in its own type, which chunks of at most 255 rows allow)."""
    rows = flags.shape[0]
    dtype = np.uint8 if rows <= 255 else np.uint16 if rows <= 65535 else np.int64  # no cast when it fits
    return flags.view(np.uint8).sum(axis=0, dtype=dtype)


def _wins_signed(b: Batch, perms: np.ndarray) -> np.ndarray:
    c, s, t_max = b.width, b.slots, b.steps
    n = b.inc.shape[0]
    inc = b.inc.reshape(n, -1)  # slot-major columns: s*C + j
    init = b.init.reshape(-1)
    low = np.int64((1 << b.count_bits) - 1)
    absent = np.iinfo(np.int64).min
    d = perms.shape[0]
    chunk = max(1, min(d, TARGET_ELEMENTS // ((1 + s) * c)))
    acc = np.zeros((t_max, c), np.int64)
    for d0 in range(0, d, chunk):
        order = perms[d0:d0 + chunk]
        rows = order.shape[0]
        state = np.repeat(init[None, :], rows, axis=0)
        singles = b.single
        single = np.full((rows, c), absent, np.int64) if singles is not None else None
        for t in range(t_max):
            idx = order[:, t]
            state += np.take(inc, idx, axis=0)
            present = ((state >> 1) & low) != 0
            keys = np.where(present, state, absent)
            best = np.full((rows, c), absent, np.int64)
            if single is not None and singles is not None:
                np.maximum(single, singles[idx], out=single)
                np.maximum(best, single, out=best)
            for k in range(1, s + 1):
                np.maximum(best, keys[:, k * c:(k + 1) * c], out=best)
            acc[t] += np.count_nonzero(present[:, :c] & (state[:, :c] > best), axis=0)
    return acc


def batch_wins(batch: Batch, perms: np.ndarray) -> np.ndarray:
    """(steps, C) number of draws in which each column's target wins among the first t samples."""
    return (_wins_signed if batch.signed else _wins_positive)(batch, perms)


def run_batches(batches: Sequence[Batch], perms: np.ndarray, n_columns: int,
                workers: int | None = None) -> np.ndarray:
    """Win rates (n_columns, N) of every column; rows of columns in no batch stay 0.

    ``workers`` processes share the batches (``None``: one per CPU, see :mod:`tts.analysis.forked`), but
    only for at least ``PARALLEL_WORK`` lane-steps: below that, starting them costs more than it saves.
    The rates are the same whatever the number of workers."""
    n = perms.shape[1]
    rates = np.zeros((n_columns, n))
    if not batches:
        return rates
    d = perms.shape[0]
    ordered = sorted(batches, key=lambda b: -b.steps * b.lanes)
    shares: list[list[Batch]] = [ordered]
    w = min(resolve_workers(workers), len(ordered))
    if w > 1 and sum(b.steps * b.lanes for b in ordered) * d >= PARALLEL_WORK:
        shares, load = [[] for _ in range(w)], [0] * w
        for b in ordered:  # the longest first, each to the least loaded worker: even shares
            i = load.index(min(load))
            shares[i].append(b)
            load[i] += b.steps * b.lanes
    results = forked_map(lambda i: [batch_wins(b, perms) for b in shares[i]], len(shares))
    if results is None:
        results = [[batch_wins(b, perms) for b in share] for share in shares]
    for share, accs in zip(shares, results):
        for b, acc in zip(share, accs):
            rates[b.columns, :b.steps] = acc.T / d
    return rates
