"""The int32 coarse-key kernel equals the exact vote on every (draw, column, prefix), near-ties included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis import brute
from tts.analysis import exact, montecarlo, votes
from tts.analysis.arrays import RunArrays
from tts.analysis.curves import permutations


def _batches(seed: int, strategy: str, samples: int = 24, levels: int = 6, draws: int = 50):
    """Batches of a random run with few score levels (many exact ties) and their permutations."""
    a = brute.single_step_arrays(np.random.default_rng(seed), 12, samples, clusters=4, levels=levels)
    units = a.units("mean")
    order = exact.best_of_n_order(units, a.scored, a.present)
    inc = votes.vote_increments(units, a.clusters, strategy)
    sizes = votes.cluster_sizes(a.clusters)
    cols = votes.build_columns(sizes, votes.representative_correct(a.clusters, a.correct, order, sizes.shape[1]))
    steps = np.full(len(cols.problem), samples)
    signed = np.zeros(len(cols.problem), bool)
    batches = votes.make_batches(inc, a.clusters, sizes, cols, steps, signed, max(1, samples.bit_length()))
    return batches, permutations(samples, draws, seed)


def _reference(b: montecarlo.Batch, perms: np.ndarray) -> np.ndarray:
    """Every cell decided by the exact int64 recomputation."""
    acc = np.zeros((b.steps, b.width), np.int64)
    rows, cols = np.divmod(np.arange(perms.shape[0] * b.width), b.width)
    for t in range(b.steps):
        won = montecarlo.resolve_exact(b, perms, rows, cols, t)
        acc[t] = np.bincount(cols[won], minlength=b.width)
    return acc


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(votes.VOTE_STRATEGIES), st.sampled_from([30, 16, 8]))
def test_coarse_kernel_equals_exact_keys(seed, strategy, coarse_bits):
    # 30 bits is the production setting; 16 and 8 bits make near-ties (and so the exact fallback) common
    batches, perms = _batches(seed, strategy)
    old = montecarlo.COARSE_BITS
    montecarlo.COARSE_BITS = coarse_bits
    try:
        for b in batches:
            np.testing.assert_array_equal(montecarlo.batch_wins(b, perms), _reference(b, perms))
    finally:
        montecarlo.COARSE_BITS = old


def test_smallest_keys_keep_the_floor():
    # small integer scores: the kernel still shifts by 1 (so tie offsets leave the coarse keys), and must
    # still treat "nobody present" as a loss for the target
    clusters = np.array([[0, -1, -1, 1, 0, -1], [-1, 0, -1, -1, -1, 0]])  # the second target is alone
    units = np.array([[1, 0, 0, 1, 1, 0], [0, 1, 0, 0, 0, 1]], np.int64)
    inc = votes.vote_increments(units, clusters, "weighted_vote")
    sizes = votes.cluster_sizes(clusters)
    cols = votes.build_columns(sizes, np.array([[True, False], [True, False]]))
    batches = votes.make_batches(inc, clusters, sizes, cols, np.array([6, 6]), np.array([False, False]), 3)
    perms = permutations(6, 720, 0)
    assert sorted((b.slots, b.single is not None) for b in batches) == [(0, False), (0, True)]
    for b in batches:
        assert montecarlo.coarse_shift(b) == 1
        np.testing.assert_array_equal(montecarlo.batch_wins(b, perms), _reference(b, perms))


@pytest.mark.parametrize("strategy", votes.VOTE_STRATEGIES)
def test_near_ties_are_resolved_not_guessed(strategy, monkeypatch):
    # identical scores everywhere: coarse margins are all near-ties, so every outcome comes from the
    # exact fallback; the curve must still equal enumeration (ties go to the lower cluster id)
    clusters = np.array([[0, 1, 0, 1, 2, 1, 0, 2]])
    a = RunArrays.from_numpy(clusters != 1, clusters, {"mean": np.full((1, 8), 0.7)})
    units = a.units("mean")
    order = exact.best_of_n_order(units, a.scored, a.present)
    perms = np.array([np.random.default_rng(i).permutation(8) for i in range(400)])
    monkeypatch.setattr(montecarlo, "COARSE_BITS", 4)
    got = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, bounds=False, exact_alone=False)
    monkeypatch.setattr(montecarlo, "COARSE_BITS", 30)
    want = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, bounds=False, exact_alone=False)
    np.testing.assert_array_equal(got, want)
