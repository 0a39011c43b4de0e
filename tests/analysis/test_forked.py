"""Worker processes change where the vote Monte Carlo runs, never what it computes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis import brute
from tts.analysis import exact, forked, montecarlo, votes
from tts.analysis.curves import permutations

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="no fork-started workers on this platform")


def _jobs(seed: int = 3):
    a = brute.single_step_arrays(np.random.default_rng(seed), 30, 16, clusters=4, levels=6)
    units = a.units("mean")
    order = exact.best_of_n_order(units, a.scored, a.present)
    jobs = [(units, order, s) for s in votes.VOTE_STRATEGIES] + [(units // 3, order, "majority")]
    return a, jobs, permutations(16, 300, seed)


@needs_fork
def test_forked_map_returns_results_in_order():
    assert forked.forked_map(lambda i: i * i, 5, workers=2) == [0, 1, 4, 9, 16]


def test_forked_map_declines_when_serial_is_asked():
    assert forked.forked_map(lambda i: i, 5, workers=1) is None
    assert forked.forked_map(lambda i: i, 1, workers=4) is None


@needs_fork
def test_a_failing_task_raises_in_the_caller():
    def task(i: int) -> int:
        if i == 2:
            raise ValueError("piece 2 is bad")
        return i

    with pytest.raises(ValueError, match="piece 2 is bad"):
        forked.forked_map(task, 4, workers=2)


def test_resolve_workers():
    assert forked.resolve_workers(3) == 3
    assert forked.resolve_workers(0) == 1
    assert 1 <= forked.resolve_workers(None) <= forked.MAX_WORKERS


@needs_fork
def test_problems_dealt_to_workers_equal_one_process(monkeypatch):
    a, jobs, perms = _jobs()
    serial = votes.vote_curves(jobs, a.clusters, a.correct, perms, workers=1)
    monkeypatch.setattr(votes, "PARALLEL_CELLS", 1)
    calls = []
    real = forked.forked_map

    def spy(task, count, workers):
        calls.append(count)
        return real(task, count, workers)

    monkeypatch.setattr(votes, "forked_map", spy)
    split = votes.vote_curves(jobs, a.clusters, a.correct, perms, workers=2)
    assert calls == [2]
    for got, want in zip(split, serial):
        np.testing.assert_array_equal(got, want)


@needs_fork
def test_batches_shared_by_workers_equal_one_process(monkeypatch):
    a, jobs, perms = _jobs(5)
    units, order, strategy = jobs[0]
    serial = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, workers=1)
    monkeypatch.setattr(montecarlo, "PARALLEL_WORK", 1)
    counts = []
    real = forked.forked_map

    def spy(task, count, workers):
        counts.append(count)
        out = real(task, count, workers)
        assert out is not None
        return out

    monkeypatch.setattr(montecarlo, "forked_map", spy)
    parallel = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, workers=2)
    assert counts == [2]  # the batches really went to two shares, one per process
    np.testing.assert_array_equal(parallel, serial)
