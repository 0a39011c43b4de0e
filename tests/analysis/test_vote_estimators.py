"""majority@n and weighted@n: exact with all permutations as draws, unbiased with random draws, bounds sound."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis import brute
from tts.analysis import bounds, exact, votes, votes_first_n
from tts.analysis.arrays import RunArrays
from tts.analysis.curves import compute_curves, permutations


def _inputs(a: RunArrays):
    units = a.units("mean")
    return units, exact.best_of_n_order(units, a.scored, a.present)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000), st.booleans(), st.sampled_from(votes.VOTE_STRATEGIES))
def test_all_permutations_as_draws_give_the_exact_subset_accuracy(n_samples, seed, signed, strategy):
    # Every n-subset is the prefix of the same number of permutations, so using all N! permutations as
    # the draws turns the Monte Carlo estimate into the exact expectation: it must equal enumeration.
    a = brute.single_step_arrays(np.random.default_rng(seed), 3, n_samples, signed=signed)
    units, order = _inputs(a)
    perms = np.array(list(itertools.permutations(range(n_samples))))
    got = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, workers=1)
    np.testing.assert_allclose(got, brute.accuracy(a, strategy), atol=1e-12)


def _two_score_sets(seed: int, n_samples: int, signed: bool) -> tuple[RunArrays, RunArrays]:
    """The same clusters and correctness under two score sets (two aggregations, as it were); the second
    signed when asked, so one job may take the signed / general paths while the others do not."""
    rng = np.random.default_rng(seed)
    a = brute.single_step_arrays(rng, 4, n_samples, levels=3)
    other = np.round(rng.random(a.correct.shape) * 5) / 5 - (0.5 if signed else 0.0)
    b = RunArrays.from_numpy(a.correct, a.clusters, {"mean": other}, present=a.present, greedy=a.greedy)
    return a, b


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000), st.booleans())
def test_jobs_computed_together_are_exact(n_samples, seed, signed):
    # vote_curves and vote_first_n_curves share work between jobs (columns per ranking, member order per
    # scores, cluster runs per run): every job must still equal enumeration, under both conventions
    runs = _two_score_sets(seed, n_samples, signed)
    jobs, want, want_first = [], [], []
    for a in runs:
        units, order = _inputs(a)
        for strategy in votes.VOTE_STRATEGIES:
            jobs.append((units, order, strategy))
            want.append(brute.accuracy(a, strategy))
            want_first.append(brute.accuracy(a, strategy, first_n=True))
    a = runs[0]
    perms = np.array(list(itertools.permutations(range(n_samples))))
    got = votes.vote_curves(jobs, a.clusters, a.correct, perms, workers=1)
    got_first = votes_first_n.vote_first_n_curves(jobs, a.clusters, a.correct)
    for g, w, gf, wf in zip(got, want, got_first, want_first):
        np.testing.assert_allclose(g, w, atol=1e-12)
        np.testing.assert_array_equal(gf, wf)


@pytest.mark.parametrize("strategy", votes.VOTE_STRATEGIES)
def test_random_draws_are_close_to_exact(strategy):
    rng = np.random.default_rng(3)
    a = brute.single_step_arrays(rng, 6, 8, clusters=3, levels=50, missing=0.0)
    units, order = _inputs(a)
    want = brute.accuracy(a, strategy)
    got = votes.vote_curve(units, a.clusters, a.correct, order, strategy, permutations(8, 4000, seed=1), workers=2)
    # 4000 draws: standard error <= 0.008 per cell
    assert np.abs(got - want).max() < 0.04
    assert abs((got - want).mean()) < 0.01


def test_forced_outcomes_are_true_outcomes():
    rng = np.random.default_rng(5)
    for _ in range(20):
        a = brute.single_step_arrays(rng, 4, 6, clusters=2, levels=20, missing=0.0, unscored=0.0)
        units, order = _inputs(a)
        for strategy in votes.VOTE_STRATEGIES:
            inc = votes.vote_increments(units, a.clusters, strategy)
            sizes = votes.cluster_sizes(a.clusters)
            if sizes.shape[1] == 0:
                continue
            cols = votes.build_columns(sizes, votes.representative_correct(a.clusters, a.correct, order, sizes.shape[1]))
            win, loss = bounds.forced_outcomes(inc, a.clusters, sizes, cols)
            # the shared inputs vote_curves passes (member order from the scores, not the increments)
            shared = bounds.forced_outcomes(inc, a.clusters, sizes, cols, bounds.Runs.of(sizes, 6),
                                           bounds.members_by_cluster(units, a.clusters, sizes.shape[1]))
            np.testing.assert_array_equal(shared[0], win)
            np.testing.assert_array_equal(shared[1], loss)
            truth = brute.accuracy(a, strategy)
            for j, p in enumerate(cols.problem):
                if (cols.problem == p).sum() == 1:  # a single correct cluster: its win rate is the accuracy
                    assert (truth[p][win[j]] == 1).all() and (truth[p][loss[j]] == 0).all()


def test_single_answer_cluster_is_exact_presence_probability():
    # one answer (correct) among unparsed responses: majority wins iff the answer is in the subset
    clusters = np.array([[0, -1, -1, 0, -1]])
    a = RunArrays.from_numpy(clusters == 0, clusters, {"mean": np.full((1, 5), 0.5)})
    curves = compute_curves(a, ["majority"], ["mean"], draws=5)
    np.testing.assert_allclose(curves.get("majority", "mean")[0], exact.present_probability(np.array([2]), 5)[0])


def test_vote_curves_are_reproducible_and_seeded():
    a = brute.single_step_arrays(np.random.default_rng(0), 5, 10, levels=30)
    one = compute_curves(a, ["weighted_vote"], ["mean"], draws=300, seed=4).get("weighted_vote", "mean")
    two = compute_curves(a, ["weighted_vote"], ["mean"], draws=300, seed=4).get("weighted_vote", "mean")
    other = compute_curves(a, ["weighted_vote"], ["mean"], draws=300, seed=5).get("weighted_vote", "mean")
    assert (one == two).all() and not (one == other).all()


def test_equivalent_answers_vote_together_in_the_curves():
    # "1/2" three times vs "3" twice: by string "3" would win ties of three singletons; by cluster 1/2 wins.
    clusters = np.array([[0, 1, 0, 1, 0]])
    a = RunArrays.from_numpy(clusters == 0, clusters, {"mean": np.full((1, 5), 0.5)})
    assert compute_curves(a, ["majority"], ["mean"]).get("majority", "mean")[0, -1] == 1.0


def test_more_than_one_correct_cluster_sums_disjoint_wins():
    # a grader that does not merge two correct forms: either correct cluster winning is a correct answer
    clusters = np.array([[0, 1, 2, 2, 0, 1]])
    correct = np.array([[True, True, False, False, True, True]])
    a = RunArrays.from_numpy(correct, clusters, {"mean": np.array([[0.3, 0.4, 0.9, 0.8, 0.35, 0.45]])})
    units, order = _inputs(a)
    perms = np.array(list(itertools.permutations(range(6))))
    for strategy in votes.VOTE_STRATEGIES:
        got = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, workers=1)
        np.testing.assert_allclose(got, brute.accuracy(a, strategy), atol=1e-12)


def test_too_many_samples_for_vote_keys_is_a_clear_error():
    with pytest.raises(ValueError, match="N <= 1024"):
        votes.vote_increments(np.zeros((1, 2048), np.int64), np.zeros((1, 2048), np.int64), "majority")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 10_000), st.sampled_from(votes.VOTE_STRATEGIES), st.integers(1, 6))
def test_first_n_running_maximum_equals_every_cluster_race(n_samples, seed, strategy, levels):
    # the fast first-n path (running maximum of within-cluster sums) against every cluster's running key,
    # with few score levels so equal keys (ties to the lower id) are common
    a = brute.single_step_arrays(np.random.default_rng(seed), 6, n_samples, clusters=4, levels=levels)
    units, order = _inputs(a)
    inc = votes.vote_increments(units, a.clusters, strategy)
    k = votes.cluster_sizes(a.clusters).shape[1]
    if k == 0:
        return
    rep = votes.representative_correct(a.clusters, a.correct, order, k)
    np.testing.assert_array_equal(votes_first_n._first_n_monotone(inc, a.clusters, rep, k),
                                  votes_first_n._first_n_general(inc, a.clusters, rep, k))
