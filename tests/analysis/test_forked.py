"""Worker processes change where the vote Monte Carlo runs, never what it computes; they are forked only
from a process with no other thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from tests.analysis import brute
from tts.analysis import exact, forked, montecarlo, votes, votes_first_n
from tts.analysis.arrays import RunArrays
from tts.analysis.curves import compute_curves, permutations

needs_fork = pytest.mark.skipif(not forked.can_fork(), reason="no fork-started workers on this platform")

_FORKS: list[list[str]] | None = None  # while a test records: the live threads' names at every fork


def _record_fork() -> None:
    if _FORKS is not None:
        _FORKS.append([t.name for t in threading.enumerate()])


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_record_fork)  # hooks cannot be removed, so this one checks a flag


def _jobs(seed: int = 3):
    a = brute.single_step_arrays(np.random.default_rng(seed), 30, 16, clusters=4, levels=6)
    units = a.units("mean")
    order = exact.best_of_n_order(units, a.scored, a.present)
    jobs = [(units, order, s) for s in votes.VOTE_STRATEGIES] + [(units // 3, order, "majority")]
    return a, jobs, permutations(16, 300, seed)


@needs_fork
def test_forked_map_returns_results_in_order():
    got = forked.forked_map(lambda i: (i * i, os.getpid()), 4)
    assert [v for v, _ in got] == [0, 1, 4, 9]
    assert got[0][1] == os.getpid() and len({pid for _, pid in got}) == 4  # a process per piece, 0 here


def test_forked_map_declines_one_piece():
    assert forked.forked_map(lambda i: i, 1) is None


@needs_fork
def test_forked_map_declines_while_another_thread_is_alive():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forked.can_fork()
        assert forked.available_workers() == 1
        assert forked.forked_map(lambda i: i, 3) is None
    finally:
        stop.set()
        other.join()
    assert forked.forked_map(lambda i: i, 3) == [0, 1, 2]


@needs_fork
def test_a_failing_task_raises_in_the_caller():
    def task(i: int) -> int:
        if i == 2:
            raise ValueError("piece 2 is bad")
        return i

    with pytest.raises(ValueError, match="piece 2 is bad"):
        forked.forked_map(task, 4)


@needs_fork
def test_a_child_that_dies_means_compute_here(caplog):
    def task(i: int) -> int:
        if i == 1:
            os._exit(3)
        return i

    assert forked.forked_map(task, 2) is None
    assert "died (exit code 3)" in caplog.text


@needs_fork
def test_an_unpicklable_result_is_a_clear_error():
    with pytest.raises(RuntimeError, match="piece 1 could not be sent back"):
        forked.forked_map(lambda i: (lambda: i), 2)


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

    def spy(task, pieces):
        calls.append(pieces)
        return real(task, pieces)

    monkeypatch.setattr(forked, "forked_map", spy)
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

    def spy(task, pieces):
        counts.append(pieces)
        out = real(task, pieces)
        assert out is not None
        return out

    monkeypatch.setattr(montecarlo, "forked_map", spy)
    parallel = votes.vote_curve(units, a.clusters, a.correct, order, strategy, perms, workers=2)
    assert counts == [2]  # the batches really went to two shares, one per process
    np.testing.assert_array_equal(parallel, serial)


@needs_fork
def test_no_fork_while_the_progress_bar_runs_a_thread(monkeypatch):
    # `tts report --progress` keeps a bar open while the vote Monte Carlo forks its workers: at every
    # fork this process must have no thread but the main one (rich's refresh thread used to be alive)
    global _FORKS
    a, _, _ = _jobs(7)
    serial = compute_curves(a, ["majority"], ["mean"], draws=200, workers=1)
    monkeypatch.setattr(votes, "PARALLEL_CELLS", 1)
    monkeypatch.setattr(montecarlo, "PARALLEL_WORK", 1)
    _FORKS = []
    try:
        shown = compute_curves(a, ["majority"], ["mean"], draws=200, workers=2, progress=True)
        forks = _FORKS
    finally:
        _FORKS = None
    assert forks, "the work was not dealt to worker processes"
    assert all(names == ["MainThread"] for names in forks), forks
    np.testing.assert_array_equal(shown.get("majority", "mean"), serial.get("majority", "mean"))


class _JobsOnAccess(Sequence):
    """Vote jobs built when asked for (a legitimate Sequence): nothing but the caller's loop holds a job's
    arrays, so they are freed one by one and their ids reused (caches keyed by ``id()`` broke on this)."""

    def __init__(self, runs: list[RunArrays]) -> None:
        self.runs = runs

    def __len__(self) -> int:
        return 2 * len(self.runs)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, str]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        a = self.runs[i // 2]
        units = a.units("mean")
        return units, exact.best_of_n_order(units, a.scored, a.present), votes.VOTE_STRATEGIES[i % 2]


@needs_fork
def test_jobs_built_on_access_each_get_their_own_curve(monkeypatch):
    base = brute.single_step_arrays(np.random.default_rng(0), 20, 10, clusters=3, levels=50, missing=0, unscored=0)
    s = base.scores["mean"]
    jobs = _JobsOnAccess([RunArrays.from_numpy(base.correct, base.clusters, {"mean": x}) for x in (s, 1 - s, s, 1 - s)])
    perms = permutations(10, 100, 0)
    alone = [votes.vote_curve(u, base.clusters, base.correct, o, st, perms, workers=1) for u, o, st in jobs]
    for cells in (10**9, 1):  # one process; problems dealt to two
        monkeypatch.setattr(votes, "PARALLEL_CELLS", cells)
        together = votes.vote_curves(jobs, base.clusters, base.correct, perms, workers=2)
        for got, want in zip(together, alone):
            np.testing.assert_array_equal(got, want)
    together = votes_first_n.vote_first_n_curves(jobs, base.clusters, base.correct)
    for got, (u, o, st) in zip(together, jobs):
        np.testing.assert_array_equal(got, votes_first_n.vote_first_n(u, base.clusters, base.correct, o, st))


@needs_fork
def test_tqdm_monitor_thread_does_not_stop_forking():
    """A benchmark loaded through ``datasets`` (or checkpoint shards through transformers) leaves tqdm's
    monitor thread running for good; the report must still fork its workers afterwards."""
    import tqdm

    tqdm.tqdm.monitor_interval = 10
    with tqdm.tqdm(total=1, disable=False, file=open(os.devnull, "w")) as bar:  # noqa: SIM115
        bar.update(1)
    assert tqdm.tqdm.monitor is not None and threading.active_count() > 1
    got = forked.forked_map(lambda i: os.getpid(), 2)
    assert got is not None and len(set(got)) == 2
    assert threading.active_count() == 1
