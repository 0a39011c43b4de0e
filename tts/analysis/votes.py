"""majority@n and weighted@n for every n: exact where the outcome is forced, Monte Carlo elsewhere.

Each answer cluster's vote is an integer key that is a sum of per-member increments (on the score grid of
:mod:`tts.strategies.scores`, so sums are exact and order-free):

- ``weighted_vote``: ``units · 2**b + 1`` per member, i.e. key = (summed score, member count);
- ``majority``: ``2**S + units`` per member, i.e. key = (member count, summed score), with ``2**S`` above
  the largest total |score| of any problem of the run (so one more member outweighs any score difference);

with ties between equal keys going to the lower cluster id, exactly as :mod:`tts.strategies.rules`. The
selected rollout is the winning cluster's best-ranked member, so a cluster counts as correct when its
members are; a problem with a cluster whose members are graded differently is computed by the reference
instead (:func:`mixed_problems`). :func:`tts.analysis.reference.vote_reference` states all of this in a
few lines; the tests hold this module equal to it (exactly wherever it counts draws).

Per problem and correct cluster ``c`` (a *column*; a problem's accuracy is the sum over its correct
clusters, disjoint events), the estimate at ``n`` is:

1. exact 0/1 when bounds force it: ``c`` wins every n-subset when its smallest possible key beats every
   competitor's largest possible key, and loses every one when its largest cannot beat some competitor's
   guaranteed smallest (clusters bigger than ``N - n`` are always present; :mod:`tts.analysis.bounds`);
2. exact ``1 - C(N-m, n)/C(N, n)`` when ``c`` is the only answer cluster (it wins iff present), and
   exact ``m/N`` at n = 1 (the single sample's cluster wins);
3. otherwise the fraction of ``draws`` random permutations whose first n samples it wins
   (:mod:`tts.analysis.montecarlo`).

The "first n samples" convention needs no sampling: :func:`tts.analysis.votes_first_n.vote_first_n`
computes it directly (the identity permutation as the only draw gives the same numbers, more slowly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tts.analysis.bounds import Runs, forced_outcomes, members_by_cluster
from tts.analysis.exact import present_probability
from tts.analysis.forked import forked_rows, resolve_workers
from tts.analysis.montecarlo import Batch, run_batches
from tts.analysis.reference import vote_reference

VOTE_STRATEGIES = ("majority", "weighted_vote")
MAX_SAMPLES = 1024
"""Vote keys stay inside int64 up to this N."""
BUCKET_SHRINK = 0.75
"""A batch is cut where its columns' length falls below this fraction of its longest column's."""
PARALLEL_CELLS = 10**8
"""(problems × samples × draws × jobs) from which problems are dealt to worker processes."""
MIN_BUCKET = 128
"""Columns a batch takes before it may be cut (fewer would leave numpy's per-call and per-row costs
dominant)."""


def vote_increments(units: np.ndarray, clusters: np.ndarray, strategy: str) -> np.ndarray:
    """(P, N) int64 per-member key increments (0 for samples without a parsed answer)."""
    n = units.shape[1]
    if n > MAX_SAMPLES:
        raise ValueError(f"vote curves support N <= {MAX_SAMPLES} samples per problem, this run has {n}")
    bits = max(1, n.bit_length())
    parsed = clusters >= 0
    if strategy == "weighted_vote":
        inc = units * np.int64(1 << bits) + 1
    elif strategy == "majority":
        # one more member must outweigh any difference of summed scores within a problem: 2**shift above
        # the largest total |score| of a problem (the run's own, so keys stay as small as they can)
        total = int(np.where(parsed, np.abs(units), 0).sum(axis=1).max(initial=0))
        shift = max(1, total.bit_length())
        inc = units + np.int64(1 << shift)
    else:
        raise KeyError(f"not a vote strategy: {strategy!r}; known: {', '.join(VOTE_STRATEGIES)}")
    return np.where(parsed, inc, 0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Columns:
    """One column per (problem, correct cluster)."""

    problem: np.ndarray  # (C,) row
    target: np.ndarray  # (C,) cluster id
    competitors: np.ndarray  # (C, S_max) multi-member competitor cluster ids, -2 = empty slot
    slots: np.ndarray  # (C,) number of multi-member competitors
    has_single: np.ndarray  # (C,) bool: some competitor has exactly one member
    alone: np.ndarray  # (C,) bool: no competitor at all


def cluster_sizes(clusters: np.ndarray) -> np.ndarray:
    """(P, K) member count of every cluster id (K = largest id + 1)."""
    p = clusters.shape[0]
    k = int(clusters.max()) + 1 if clusters.size and clusters.max() >= 0 else 0
    if k == 0:
        return np.zeros((p, 0), np.int64)
    valid = clusters >= 0
    key = (np.arange(p)[:, None] * k + clusters)[valid]
    return np.bincount(key, minlength=p * k).reshape(p, k)


def representative_correct(clusters: np.ndarray, correct: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """(P, K) correctness of each cluster's best-ranked member."""
    p = clusters.shape[0]
    out = np.zeros((p, k), bool)
    if k == 0:
        return out
    ranked_cl = np.take_along_axis(clusters, order, axis=1)
    ranked_ok = np.take_along_axis(correct, order, axis=1)
    valid = ranked_cl >= 0
    flat = (np.arange(p)[:, None] * k + ranked_cl)[valid]  # row-major: each row's ranks ascending
    keys, first = np.unique(flat, return_index=True)  # first occurrence = best-ranked member
    out.reshape(-1)[keys] = ranked_ok[valid][first]
    return out


def build_columns(sizes: np.ndarray, rep_correct: np.ndarray) -> Columns:
    p_col, c_col = np.nonzero(rep_correct & (sizes > 0))
    k = sizes.shape[1]
    ids = np.arange(k)[None, :]
    others = (sizes[p_col] > 0) & (ids != c_col[:, None])
    multi = others & (sizes[p_col] >= 2)
    slots = multi.sum(axis=1)
    s_max = int(slots.max()) if len(slots) else 0
    first = np.argsort(~multi, axis=1, kind="stable")[:, :s_max]
    competitors = np.where(np.arange(s_max)[None, :] < slots[:, None], first, -2)
    has_single = (others & (sizes[p_col] == 1)).any(axis=1)
    return Columns(p_col, c_col, competitors, slots, has_single, ~others.any(axis=1))


def make_batches(inc: np.ndarray, clusters: np.ndarray, sizes: np.ndarray, cols: Columns, steps: np.ndarray,
                 signed: np.ndarray, count_bits: int) -> list[Batch]:
    """Group the columns that need sampling into batches of one layout (competitor slots, singleton
    competitors or not, signed or not) and similar length; build their arrays.

    Within a layout, columns sorted longest first are cut into a new batch where the length falls below
    ``BUCKET_SHRINK`` of the batch's longest (each batch runs to its longest column, so this bounds the
    wasted steps), once the batch has ``MIN_BUCKET`` columns."""
    need = np.nonzero(steps > 0)[0]
    if len(need) == 0:
        return []
    layout = np.stack([cols.has_single[need], signed[need], cols.slots[need]], axis=1)
    batches: list[Batch] = []
    for key in np.unique(layout, axis=0):
        members = need[(layout == key).all(axis=1)]
        members = members[np.argsort(-steps[members], kind="stable")]
        rising = steps[members][::-1]  # ascending, for searchsorted
        cuts = [0]
        while True:  # the next cut: MIN_BUCKET on, the first column shorter than BUCKET_SHRINK of the cut's
            shorter = len(members) - int(np.searchsorted(rising, BUCKET_SHRINK * rising[-1 - cuts[-1]]))
            nxt = max(cuts[-1] + MIN_BUCKET, shorter)
            if nxt >= len(members):
                break
            cuts.append(nxt)
        for lo, hi in zip(cuts, cuts[1:] + [len(members)]):
            part = members[lo:hi]
            batches.append(_batch(inc, clusters, sizes, cols, part, int(key[2]), bool(key[0]), bool(key[1]),
                                  int(steps[part].max()), count_bits))
    return batches


def _batch(inc: np.ndarray, clusters: np.ndarray, sizes: np.ndarray, cols: Columns, idx: np.ndarray, s: int,
           has_single: bool, signed: bool, steps: int, count_bits: int) -> Batch:
    p, c = cols.problem[idx], cols.target[idx]
    cl = clusters[p]  # (C, N)
    inc2 = 2 * inc[p]
    rivals = np.full((len(idx), s), -2, np.int64)  # -2: an empty (padding) slot
    width = min(s, cols.competitors.shape[1])
    rivals[:, :width] = cols.competitors[idx, :width]
    slot_ids = np.concatenate([c[:, None], rivals], axis=1)  # (C, 1+S)
    member = cl[:, None, :] == slot_ids[:, :, None]  # (C, 1+S, N)
    table = np.where(member, inc2[:, None, :], 0)
    table = table.transpose(2, 1, 0)  # (N, 1+S, C)
    wins_ties = (slot_ids[:, 1:] >= 0) & (slot_ids[:, 1:] < c[:, None])
    offsets = np.concatenate([np.ones((len(idx), 1), np.int64), wins_ties.astype(np.int64)], axis=1)
    init = np.ascontiguousarray(offsets.T)
    single = None
    if has_single:
        k = sizes.shape[1]
        size_of = np.take_along_axis(sizes[p], np.clip(cl, 0, max(k - 1, 0)), axis=1)
        is_single = (cl >= 0) & (cl != c[:, None]) & (size_of == 1)
        floor = np.iinfo(np.int64).min if signed else 2
        single = np.where(is_single, inc2 + (cl < c[:, None]), floor).T.copy()
    return Batch(idx, np.ascontiguousarray(table), init, single, steps, signed, count_bits)


def vote_curve(units: np.ndarray, clusters: np.ndarray, correct: np.ndarray, order: np.ndarray, strategy: str,
               perms: np.ndarray, *, exact_alone: bool = True, bounds: bool = True,
               workers: int | None = None) -> np.ndarray:
    """Per-problem accuracy (P, N) of a vote strategy; ``perms`` (D, N) are the draws. (The identity
    permutation with ``exact_alone=False, bounds=False`` gives the first-n convention;
    :func:`tts.analysis.votes_first_n.vote_first_n` computes that faster.)"""
    return vote_curves([(units, order, strategy)], clusters, correct, perms, exact_alone=exact_alone,
                       bounds=bounds, workers=workers)[0]


def vote_curves(jobs: Sequence[tuple[np.ndarray, np.ndarray, str]], clusters: np.ndarray, correct: np.ndarray,
                perms: np.ndarray, *, exact_alone: bool = True, bounds: bool = True,
                workers: int | None = None) -> list[np.ndarray]:
    """:func:`vote_curve` of several ``(units, best-of-n order, strategy)`` jobs over the same clusters.

    Why together: every job has the same clusters, so the same column layouts, and the Monte Carlo kernel
    runs much faster on a few wide batches than on many narrow ones (numpy's per-row and per-call costs);
    all of a run's vote curves (2 strategies × 5 aggregations) share one set of batches. Each job's
    numbers are exactly those it gets alone: the draws are the same ``perms`` for every column.

    Problems with a cluster whose members are graded differently take
    :func:`tts.analysis.reference.vote_reference` (see :func:`mixed_problems`)."""
    jobs = list(jobs)
    mixed = mixed_problems(clusters, correct)
    if not mixed.any():
        return _kernel_curves(jobs, clusters, correct, perms, exact_alone, bounds, workers)
    outs = [np.zeros(clusters.shape) for _ in jobs]
    rows = ~mixed
    if rows.any():
        got = _kernel_curves([(u[rows], o[rows], s) for u, o, s in jobs], clusters[rows], correct[rows], perms,
                             exact_alone, bounds, workers)
        for out, curve in zip(outs, got):
            out[rows] = curve
    for out, (u, o, s) in zip(outs, jobs):
        out[mixed] = vote_reference(u[mixed], clusters[mixed], correct[mixed], o[mixed], s, perms)
    return outs


def mixed_problems(clusters: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """(P,) bool: some answer cluster of the problem has members graded differently.

    The vote estimators credit a winning cluster with the grade of its best-ranked member among all N
    samples; the rule answers with the best-ranked member among those drawn, which has the same grade
    exactly when all members do. A grader that is consistent with its own equivalence never mixes them;
    the problems where it does (counted in ``coverage["heterogeneous_clusters"]``) are computed by the
    reference instead."""
    sizes = cluster_sizes(clusters)
    p, k = sizes.shape
    if k == 0:
        return np.zeros(p, bool)
    key = (np.arange(p)[:, None] * k + clusters)[(clusters >= 0) & correct]
    right = np.bincount(key, minlength=p * k).reshape(p, k)
    return np.asarray(((right > 0) & (right < sizes)).any(axis=1))


def closed_form_cells(clusters: np.ndarray) -> np.ndarray:
    """(P, N) bool: the cells :func:`vote_curves` may fill from a closed form rather than from the draws:
    n = 1, and every n of a problem with a single answer cluster. Everywhere else it counts the outcomes
    of the same draws as :func:`tts.analysis.reference.vote_reference`, or a forced outcome that every
    draw shares, so the two agree exactly there."""
    out = np.zeros(clusters.shape, bool)
    out[:, 0] = True
    out[(cluster_sizes(clusters) > 0).sum(axis=1) == 1] = True
    return out


def first_equal(arrays: Sequence[np.ndarray]) -> list[int]:
    """For each array, the position of the first array equal to it: jobs with equal rankings (or scores)
    share what is derived from them.

    Equal by value, not by ``id()``: an id is reused once its array is freed, so a cache keyed by ids could
    hand one job the columns of another (the jobs of a lazily built sequence are freed one by one); two
    equal arrays derive the same data whoever holds them. The comparisons cost about a millisecond."""
    firsts: list[int] = []
    distinct: list[int] = []
    for i, a in enumerate(arrays):
        same = next((j for j in distinct if arrays[j] is a or np.array_equal(arrays[j], a)), None)
        if same is None:
            distinct.append(i)
        firsts.append(i if same is None else same)
    return firsts


def _kernel_curves(jobs: list[tuple[np.ndarray, np.ndarray, str]], clusters: np.ndarray, correct: np.ndarray,
                   perms: np.ndarray, exact_alone: bool, bounds: bool, workers: int | None) -> list[np.ndarray]:
    """:func:`vote_curves` where every cluster is graded consistently."""
    p, n = clusters.shape
    split = _split_problems(jobs, clusters, correct, perms, exact_alone, bounds, workers)
    if split is not None:
        return split
    outs = [np.zeros((p, n)) for _ in jobs]
    sizes = cluster_sizes(clusters)
    if sizes.shape[1] == 0 or not jobs:
        return outs
    ns = np.arange(1, n + 1)
    parts = []
    # the strategies of one aggregation share their columns (by ranking) and member order (by scores)
    same_order = first_equal([order for _, order, _ in jobs])
    same_units = first_equal([units for units, _, _ in jobs])
    columns: dict[int, Columns] = {}
    by_cluster: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    runs = Runs.of(sizes, n) if bounds else None
    for j, (units, order, strategy) in enumerate(jobs):
        inc = vote_increments(units, clusters, strategy)
        if same_order[j] not in columns:
            columns[same_order[j]] = build_columns(sizes, representative_correct(clusters, correct, order,
                                                                                 sizes.shape[1]))
        cols = columns[same_order[j]]
        signed = np.asarray(((inc < 0) & (clusters >= 0)).any(axis=1))[cols.problem]
        if bounds and len(cols.problem):
            if same_units[j] not in by_cluster:
                by_cluster[same_units[j]] = members_by_cluster(units, clusters, sizes.shape[1])
            win, loss = forced_outcomes(inc, clusters, sizes, cols, runs, by_cluster[same_units[j]])
            win[signed], loss[signed] = False, False  # bounds assume positive increments
        else:
            win = loss = np.zeros((len(cols.problem), n), bool)
        uncertain = ~(win | loss)
        if exact_alone:
            uncertain[cols.alone & ~signed] = False
        steps = np.where(uncertain.any(axis=1), (uncertain * ns).max(axis=1), 0)
        parts.append((inc, cols, signed, win, loss, uncertain, steps))
    stacked = _stack_columns([part[1] for part in parts], p)
    jobs_n = len(jobs)
    batches = make_batches(np.concatenate([part[0] for part in parts]), np.tile(clusters, (jobs_n, 1)),
                           np.tile(sizes, (jobs_n, 1)), stacked, np.concatenate([part[6] for part in parts]),
                           np.concatenate([part[2] for part in parts]), max(1, n.bit_length()))
    sampled = run_batches(batches, perms, len(stacked.problem), workers=workers)
    start = 0
    for out, (_, cols, signed, win, loss, uncertain, _) in zip(outs, parts):
        stop = start + len(cols.problem)
        rates = np.where(win, 1.0, np.where(uncertain, sampled[start:stop], 0.0))
        start = stop
        if exact_alone and len(cols.problem):
            # n = 1: the one sample's cluster wins, so the target wins with probability m_c / N
            rates[:, 0] = sizes[cols.problem, cols.target] / n
            alone = cols.alone & ~signed
            if alone.any():
                members = sizes[cols.problem[alone], cols.target[alone]]
                exact = present_probability(members, n)
                rates[alone] = np.where(win[alone] | loss[alone], rates[alone], exact)
        if len(cols.problem):  # a problem's accuracy: the sum over its correct clusters (rows sorted by problem)
            first = np.flatnonzero(np.diff(cols.problem, prepend=-1))
            out[cols.problem[first]] = np.add.reduceat(rates, first, axis=0)
    return outs


def _split_problems(jobs: list[tuple[np.ndarray, np.ndarray, str]], clusters: np.ndarray, correct: np.ndarray,
                    perms: np.ndarray, exact_alone: bool, bounds: bool,
                    workers: int | None) -> list[np.ndarray] | None:
    """The problems dealt to worker processes (problems are independent and the draws are shared, so the
    numbers are the same), each computing every job for its share with :func:`_kernel_curves`,
    preparation included; ``None`` when not worth it or not possible."""
    if clusters.size * perms.shape[0] * len(jobs) < PARALLEL_CELLS:
        return None

    def share(rows: np.ndarray) -> list[np.ndarray]:
        return _kernel_curves([(u[rows], o[rows], s) for u, o, s in jobs], clusters[rows], correct[rows], perms,
                              exact_alone, bounds, 1)

    return forked_rows(share, clusters.shape[0], resolve_workers(workers))


def _stack_columns(parts: Sequence[Columns], problems: int) -> Columns:
    """The columns of several jobs as one set; job ``j``'s problem rows become ``j·P + row`` (the rows of
    the jobs' increments stacked in order)."""
    width = max(c.competitors.shape[1] for c in parts)
    competitors = [np.pad(c.competitors, ((0, 0), (0, width - c.competitors.shape[1])), constant_values=-2)
                   for c in parts]
    return Columns(np.concatenate([c.problem + j * problems for j, c in enumerate(parts)]),
                   np.concatenate([c.target for c in parts]), np.concatenate(competitors),
                   np.concatenate([c.slots for c in parts]), np.concatenate([c.has_single for c in parts]),
                   np.concatenate([c.alone for c in parts]))

