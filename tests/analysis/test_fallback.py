"""A strategy registered without an estimator of its own gets curves from its registered function."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from tests.analysis import brute
from tts.analysis import curves, forked
from tts.analysis.curves import FALLBACK_ESTIMATOR, compute_curves, estimator, fallback_curve, permutations
from tts.analysis.reference import CLOSED_FORM_TOLERANCE, agreement
from tts.analysis.votes import closed_form_cells
from tts.strategies import STRATEGIES, Candidate, Strategy, aggregate, rules


def _worst_of_n(cands: Sequence[Candidate], aggregation: str, seed: int) -> int | None:
    """The lowest-scored rollout (unscored ones count as 0), ties to the highest sample index."""
    scored = [(aggregate(c.step_scores, aggregation) or 0.0, -c.sample_idx, c.sample_idx) for c in cands]
    return min(scored)[2] if scored else None


def _last_sample(cands: Sequence[Candidate], aggregation: str, seed: int) -> int | None:
    return max((c.sample_idx for c in cands), default=None)


@pytest.fixture
def registered(monkeypatch):
    """Three strategies registered for the test only: a copy of majority under a new name, one that
    reads scores, one that reads nothing (the registry keeps them while the test runs)."""
    new = {
        "majority_copy": Strategy("majority_copy", lambda c, a, s: rules.majority(c, a), True, True),
        "worst_of_n": Strategy("worst_of_n", _worst_of_n, uses_scores=True, uses_clusters=False),
        "last_sample": Strategy("last_sample", _last_sample, uses_scores=False, uses_clusters=False),
    }
    for name, spec in new.items():
        monkeypatch.setitem(STRATEGIES._entries, name, spec)
    return new


def test_a_registered_strategy_gets_curves_not_unavailable(registered):
    a = brute.single_step_arrays(np.random.default_rng(1), 6, 6)
    got = compute_curves(a, ["worst_of_n", "last_sample"], ["mean"], draws=50)
    assert got.unavailable == {}
    assert got.get("worst_of_n", "mean").shape == (6, 6) and ("last_sample", None) in got.values
    assert estimator("worst_of_n") == FALLBACK_ESTIMATOR and estimator("majority") != FALLBACK_ESTIMATOR


def test_the_fallback_is_exact_on_all_permutations_and_on_the_first_n(registered):
    a = brute.single_step_arrays(np.random.default_rng(2), 4, 5, signed=True)
    every = np.array(list(itertools.permutations(range(5))))
    for name, agg in (("worst_of_n", "mean"), ("last_sample", None)):
        np.testing.assert_allclose(fallback_curve(a, name, agg, every, 0, 1), brute.accuracy(a, name), atol=1e-12)
        first = compute_curves(a, [name], ["mean"], convention="first_n").get(name, "mean")
        np.testing.assert_array_equal(first, brute.accuracy(a, name, first_n=True))


def test_the_fallback_agrees_with_the_vote_kernel_on_the_same_draws(registered):
    # majority under another name goes through the fallback; it must agree with the kernel's majority as
    # the reference does: exactly where the kernel counts draws, within tolerance on its closed forms
    a = brute.single_step_arrays(np.random.default_rng(3), 15, 10, clusters=3, levels=10)
    got = compute_curves(a, ["majority", "majority_copy"], ["mean"], draws=300, seed=2)
    sampled, z = agreement(got.get("majority", "mean"), got.get("majority_copy", "mean"),
                           closed_form_cells(a.clusters), 300)
    assert sampled <= 1e-12 and z <= CLOSED_FORM_TOLERANCE
    first = compute_curves(a, ["majority", "majority_copy"], ["mean"], convention="first_n")
    np.testing.assert_array_equal(first.get("majority", "mean"), first.get("majority_copy", "mean"))


@pytest.mark.skipif(not forked.can_fork(), reason="no fork-started workers on this platform")
def test_the_fallback_on_workers_equals_one_process(registered, monkeypatch):
    a = brute.single_step_arrays(np.random.default_rng(4), 9, 8)
    perms = permutations(8, 40, 0)
    serial = fallback_curve(a, "worst_of_n", "mean", perms, 0, 1)
    monkeypatch.setattr(curves, "FALLBACK_PARALLEL_CALLS", 1)
    pieces = []
    real = forked.forked_map

    def spy(task, count):
        pieces.append(count)
        return real(task, count)

    monkeypatch.setattr(forked, "forked_map", spy)
    np.testing.assert_array_equal(fallback_curve(a, "worst_of_n", "mean", perms, 0, 2), serial)
    assert pieces == [2]


def test_the_report_shows_a_registered_strategy_with_its_estimator(registered, tmp_path):
    from tests.analysis.synthetic_run import make_run
    from tts.stages.report import curve_report

    run = make_run(tmp_path / "run", problems=4, n=4)
    out = curve_report(run, strategies=["worst_of_n", "majority"], aggregations=["mean"], draws=40, resamples=20,
                       plot=False)
    info = out["curve_info"]
    assert info["unavailable"] == {} and info["strategies"] == ["worst_of_n", "majority"]
    assert info["estimators"]["worst_of_n"] == FALLBACK_ESTIMATOR
    for section in (out, out["first_n"]):
        assert set(section["curves"]["alpha"]["worst_of_n"]["mean"]) == {"1", "2", "3", "4"}
