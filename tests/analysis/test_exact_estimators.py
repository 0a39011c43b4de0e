"""Closed forms against brute-force enumeration of all n-subsets; unbiased pass@n; first-n convention."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis import brute
from tts.analysis import exact
from tts.analysis.arrays import RunArrays
from tts.analysis.curves import compute_curves


def _order(a: RunArrays) -> np.ndarray:
    return exact.best_of_n_order(a.units("mean"), a.scored, a.present)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000))
def test_best_of_n_closed_form_equals_enumeration(n_samples, seed):
    a = brute.single_step_arrays(np.random.default_rng(seed), 3, n_samples)
    np.testing.assert_allclose(exact.best_of_n_subsets(a.correct, _order(a)), brute.accuracy(a, "best_of_n"), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(0, 10_000))
def test_pass_at_n_is_the_unbiased_estimator(n_samples, seed):
    rng = np.random.default_rng(seed)
    correct = rng.random((4, n_samples)) < 0.4
    got = exact.pass_at_n(correct)
    for p in range(4):
        c = int(correct[p].sum())
        for n in range(1, n_samples + 1):
            hits = [any(correct[p, list(s)]) for s in itertools.combinations(range(n_samples), n)]
            assert got[p, n - 1] == pytest.approx(np.mean(hits), abs=1e-12)
            assert got[p, n - 1] == pytest.approx(1 - comb(n_samples - c, n) / comb(n_samples, n), abs=1e-12)


def test_pass_at_n_is_unbiased_for_the_population_pass_rate():
    # E over runs of N Bernoulli(q) samples of pass@n equals 1 - (1-q)^n exactly.
    q, n_samples, n = 0.3, 5, 2
    expect = 0.0
    for bits in itertools.product([0, 1], repeat=n_samples):
        prob = np.prod([q if b else 1 - q for b in bits])
        expect += prob * exact.pass_at_n(np.array([bits], bool))[0, n - 1]
    assert expect == pytest.approx(1 - (1 - q) ** n, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(0, 10_000))
def test_first_n_convention_equals_strategies_on_prefixes(n_samples, seed):
    a = brute.single_step_arrays(np.random.default_rng(seed), 3, n_samples)
    curves = compute_curves(a, ["best_of_n", "oracle", "random", "greedy", "majority", "weighted_vote"], ["mean"],
                            convention="first_n")
    for strategy in ("best_of_n", "oracle", "random", "majority", "weighted_vote", "greedy"):
        if strategy == "greedy" and (a.greedy < 0).all():  # no problem has a greedy rollout
            assert "greedy" in curves.unavailable
            continue
        np.testing.assert_allclose(curves.get(strategy, "mean"), brute.accuracy(a, strategy, first_n=True),
                                   atol=1e-12, err_msg=strategy)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000))
def test_random_and_oracle_and_greedy_subset_curves_equal_enumeration(n_samples, seed):
    a = brute.single_step_arrays(np.random.default_rng(seed), 3, n_samples)
    curves = compute_curves(a, ["oracle", "random", "greedy"], ["mean"])
    for strategy in ("oracle", "random"):
        np.testing.assert_allclose(curves.get(strategy, "mean"), brute.accuracy(a, strategy), atol=1e-12)
    # greedy is the greedy rollout itself, whatever the subset (unavailable when no problem has one)
    if (a.greedy < 0).all():
        assert "greedy" in curves.unavailable
        return
    np.testing.assert_allclose(curves.get("greedy", "mean")[:, -1], brute.accuracy(a, "greedy")[:, -1])


def test_selection_weights_are_a_distribution_over_ranks():
    w = exact.selection_weights(64)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert (w >= 0).all() and w[-1, 0] == 1.0
    assert w[0].tolist() == pytest.approx([1 / 64] * 64)


def test_identical_scores_select_the_lowest_index_in_the_closed_form():
    correct = np.array([[False, True, True, False]])
    a = RunArrays.from_numpy(correct, scores={"mean": np.full((1, 4), 0.5)})
    got = exact.best_of_n_subsets(a.correct, _order(a))
    # best of a subset = its lowest index; P(lowest index of an n-subset is 1 or 2) by enumeration
    want = [np.mean([correct[0, min(s)] for s in itertools.combinations(range(4), n)]) for n in range(1, 5)]
    np.testing.assert_allclose(got[0], want, atol=1e-12)
    assert exact.best_of_n_first_n(a.correct, _order(a))[0].tolist() == [0, 0, 0, 0]


def test_nothing_scored_selects_sample_zero():
    a = RunArrays.from_numpy([[True, False, False]], scores={"mean": np.full((1, 3), np.nan)})
    assert exact.best_of_n_first_n(a.correct, _order(a))[0].tolist() == [1, 1, 1]


def test_missing_rollouts_rank_last_and_count_as_failures():
    a = RunArrays.from_numpy([[True, True]], scores={"mean": [[0.1, 0.9]]}, present=[[True, False]])
    assert not a.correct[0, 1]
    assert exact.best_of_n_order(a.units("mean"), a.scored, a.present)[0].tolist() == [0, 1]


@given(st.lists(st.booleans(), min_size=1, max_size=10), st.booleans())
def test_adding_a_rollout_never_lowers_oracle_at_n(correct, extra):
    before = exact.pass_at_n(np.array([correct]))[0, -1]
    after = exact.pass_at_n(np.array([correct + [extra]]))[0, -1]
    assert after >= before
