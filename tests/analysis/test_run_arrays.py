"""Loading a run directory into dense arrays: clusters, greedy, missing/ungraded/unscored rollouts."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.synthetic_run import make_run
from tts.analysis import load_arrays
from tts.analysis.arrays import RunArrays, _first_appearance
from tts.records import Grade, Problem, Rollout, StepScores
from tts.rundir import RunDir
from tts.strategies import aggregate


def _rollout(pid, i, flags=()):
    return Rollout(pid, i, "text", "stop", 1, 1, 0.0, "m", "transformers", flags=flags)


def test_loader_builds_arrays_from_records(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.bind("sampling", {"n": 4, "temperature": 0.7})
    run.append([Problem("a", "alpha", "test", "q", answer="1/2"), Problem("b", "beta", "test", "q", answer="3")])
    run.append([_rollout("a", i, ("greedy",) if i == 2 else ()) for i in range(4)] + [_rollout("b", i) for i in range(3)])
    run.append([StepScores("a", 0, "prm", ("s1", "s2"), (0.2, 0.6)), StepScores("a", 1, "prm", ("s1",), ()),
                StepScores("b", 0, "prm", ("s1",), (0.9,))], critic="prm")
    run.append([Grade("a", 0, "0.5", True, "match"), Grade("a", 1, "1/2", True, "match"),
                Grade("a", 2, "7", False, "mismatch"), Grade("a", 3, None, False, "no answer"),
                Grade("b", 0, "3", True, "match"), Grade("b", 1, "3", False, "wrong", "official")])
    a = load_arrays(run)
    assert a.critic == "prm" and a.n_samples == 4 and a.problem_ids == ("a", "b")
    assert a.benchmarks.tolist() == ["alpha", "beta"]
    assert a.present.tolist() == [[True] * 4, [True, True, True, False]]  # b has a missing 4th rollout
    assert a.clusters.tolist() == [[0, 0, 1, -1], [0, -1, -1, -1]]  # "0.5" and "1/2" are one answer
    assert a.correct.tolist() == [[True, True, False, False], [True, False, False, False]]
    assert a.greedy.tolist() == [2, -1]  # only problem a has a flagged rollout
    assert a.scores["mean"][0, 0] == aggregate([0.2, 0.6], "mean") and np.isnan(a.scores["mean"][0, 1])
    assert a.coverage["missing"] == 1 and a.coverage["ungraded"] == 2 and a.coverage["scored"] == 2
    official = load_arrays(run, rules="official")
    assert official.correct.sum() == 0 and official.clusters.tolist() == a.clusters.tolist()


def test_first_greedy_runs_use_sample_zero_when_nothing_is_flagged(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.bind("sampling", {"n": 2, "temperature": 0.7, "first_greedy": True})
    run.append([Problem("a", "alpha", "test", "q", answer="1")])
    run.append([_rollout("a", 0), _rollout("a", 1)])
    assert load_arrays(run).greedy.tolist() == [0]


def test_unknown_critic_is_a_clear_error(tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    with pytest.raises(KeyError, match="no scores from critic 'other'"):
        load_arrays(run, critic="other")


def test_first_appearance_renumbering():
    got = _first_appearance(np.array([[5, -1, 2, 5], [-1, -1, -1, -1], [3, 3, 0, 1]]))
    assert got.tolist() == [[0, -1, 1, 0], [-1, -1, -1, -1], [0, 0, 1, 2]]


def test_from_numpy_masks_missing_rollouts():
    a = RunArrays.from_numpy([[True, True]], [[0, 0]], {"mean": [[0.5, 0.5]]}, present=[[True, False]])
    assert a.correct.tolist() == [[True, False]] and a.clusters.tolist() == [[0, -1]]
    assert np.isnan(a.scores["mean"][0, 1])
    with pytest.raises(ValueError, match="does not match"):
        RunArrays.from_numpy([[True]], [[0, 1]])
