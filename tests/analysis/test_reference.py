"""The reference defines every curve, and the fast estimators are held to it.

How they are held (with the same seeded permutations as draws):
- the reference equals the registered strategy functions (enumeration over every n-subset when all N!
  permutations are the draws; the first n samples under the first-n convention);
- the vote kernel equals the reference exactly (to 1e-12, float summation) wherever it counts draws:
  same draws, exact integer keys, so the same counts; it differs only where it holds a closed form
  (n = 1, problems with one answer cluster), and there it must lie within
  ``CLOSED_FORM_TOLERANCE`` (5) standard errors of the reference's estimate; with all N! permutations as
  the draws it equals the reference everywhere;
- under the first-n convention (one draw, no closed forms) the kernel equals the reference exactly.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.analysis import brute
from tts.analysis import exact, votes, votes_first_n
from tts.analysis.arrays import RunArrays
from tts.analysis.curves import permutations
from tts.analysis.reference import (
    CLOSED_FORM_TOLERANCE,
    agreement,
    first_n_draw,
    strategy_reference,
    vote_reference,
)


def _jobs(a: RunArrays) -> list[tuple[np.ndarray, np.ndarray, str]]:
    units = a.units("mean")
    order = exact.best_of_n_order(units, a.scored, a.present)
    return [(units, order, s) for s in votes.VOTE_STRATEGIES]


def _all_permutations(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000), st.booleans(), st.booleans())
def test_reference_is_the_registered_rule(n_samples, seed, signed, consistent):
    # members of a cluster graded differently (consistent=False) included: the answer is the winning
    # cluster's best-ranked member among those drawn, exactly as the rule picks it
    a = brute.single_step_arrays(np.random.default_rng(seed), 3, n_samples, signed=signed, consistent=consistent)
    every = _all_permutations(n_samples)
    for units, order, strategy in _jobs(a):
        want = brute.accuracy(a, strategy)
        np.testing.assert_allclose(vote_reference(units, a.clusters, a.correct, order, strategy, every), want,
                                   atol=1e-12)
        np.testing.assert_array_equal(
            vote_reference(units, a.clusters, a.correct, order, strategy, first_n_draw(n_samples)),
            brute.accuracy(a, strategy, first_n=True))
        np.testing.assert_allclose(strategy_reference(a, strategy, "mean", every), want, atol=1e-12)
    for strategy in ("best_of_n", "oracle", "greedy"):
        np.testing.assert_allclose(strategy_reference(a, strategy, "mean", every), brute.accuracy(a, strategy),
                                   atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000), st.booleans(), st.booleans())
def test_kernel_equals_reference_on_all_permutations(n_samples, seed, signed, consistent):
    a = brute.single_step_arrays(np.random.default_rng(seed), 4, n_samples, signed=signed, consistent=consistent)
    every = _all_permutations(n_samples)
    jobs = _jobs(a)
    got = votes.vote_curves(jobs, a.clusters, a.correct, every, workers=1)
    got_first = votes_first_n.vote_first_n_curves(jobs, a.clusters, a.correct)
    for (units, order, strategy), curve, first in zip(jobs, got, got_first):
        want = vote_reference(units, a.clusters, a.correct, order, strategy, every)
        np.testing.assert_allclose(curve, want, atol=1e-12)
        np.testing.assert_array_equal(
            first, vote_reference(units, a.clusters, a.correct, order, strategy, first_n_draw(n_samples)))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 20), st.integers(0, 10_000), st.booleans(), st.booleans(), st.integers(1, 40))
@example(19, 411, False, True, 1)  # one miss in 200 draws of q = 0.9999: a 2% event, not "6.6 standard errors"
def test_kernel_equals_reference_with_the_same_seeds(n_samples, seed, signed, consistent, levels):
    # few score levels make exact ties (and near-ties of the int32 kernel) common
    rng = np.random.default_rng(seed)
    a = brute.single_step_arrays(rng, 12, n_samples, clusters=int(rng.integers(1, 5)), signed=signed,
                                 consistent=consistent, levels=levels)
    draws = 200
    perms = permutations(n_samples, draws, seed)
    jobs = _jobs(a)
    closed = votes.closed_form_cells(a.clusters)
    for (units, order, strategy), curve in zip(jobs, votes.vote_curves(jobs, a.clusters, a.correct, perms, workers=1)):
        want = vote_reference(units, a.clusters, a.correct, order, strategy, perms)
        sampled, z = agreement(curve, want, closed, draws)
        assert sampled <= 1e-12, (strategy, sampled)
        assert z <= CLOSED_FORM_TOLERANCE, (strategy, z)


def test_closed_forms_are_where_the_kernel_and_reference_differ():
    # a guard on the test above: with few draws the closed-form cells do differ, and only they do
    rng = np.random.default_rng(11)
    a = brute.single_step_arrays(rng, 40, 12, clusters=3, levels=20, missing=0.0)
    perms = permutations(12, 30, 0)
    closed = votes.closed_form_cells(a.clusters)
    (units, order, strategy), *_ = _jobs(a)
    curve = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, workers=1)
    want = vote_reference(units, a.clusters, a.correct, order, strategy, perms)
    assert np.abs(curve - want)[closed].max() > 0
    sampled, z = agreement(curve, want, closed, 30)
    assert sampled <= 1e-12 and 0 < z <= CLOSED_FORM_TOLERANCE


def test_agreement_measures_both_kinds_of_cell():
    est = np.array([[0.5, 1.0, 0.25]])
    closed = np.array([[True, True, False]])
    # 0.5 ± one standard error (sqrt(0.25 / 100) = 0.05) on a closed cell; an exact 1 met; sampled equal
    assert agreement(est, np.array([[0.55, 1.0, 0.25]]), closed, 100) == (0.0, pytest.approx(1.0))
    assert agreement(est, np.array([[0.5, 0.99, 0.25]]), closed, 100)[1] == np.inf  # an exact 1 missed
    assert agreement(est, np.array([[0.5, 1.0, 0.3]]), closed, 100)[0] == pytest.approx(0.05)


def test_mixed_clusters_are_flagged():
    clusters = np.array([[0, 0, 1, -1], [0, 1, 1, 0]])
    correct = np.array([[True, False, False, False], [True, False, False, True]])
    assert votes.mixed_problems(clusters, correct).tolist() == [True, False]
