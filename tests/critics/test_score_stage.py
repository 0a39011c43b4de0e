"""The score stage with pluggable critics: several critics per run, per-pass overrides, resume."""

import pytest

from tts.critics import load_critic
from tts.records import Rollout, StepScores
from tts.rundir import ConfigConflict, RunDir
from tts.stages import add_problems, score
from tts.testing.text_prm_tiny import text_prm_checkpoints

TEXTS = ["First, we look at the figure.\n\nThe answer is (C).", "", "x = 2\n\ny = -1\n\nAnswer: \\boxed{1}"]


@pytest.fixture()
def run(tmp_path):
    run = RunDir.open(tmp_path / "run")
    problems = add_problems(run, ["demo"], limit=3)
    run.append([Rollout(p.id, i, t, "stop", 10, 5, 0.1, "m", "transformers")
                for p in problems for i, t in enumerate(TEXTS)])
    return run


def test_one_run_scored_by_several_critics(run, tiny):
    critics = [load_critic("visualprm", str(tiny.critic)), load_critic("visualprm-orm", str(tiny.critic)),
               load_critic("math-shepherd", str(text_prm_checkpoints().math_shepherd))]
    for critic in critics:
        summary = score(run, critic, progress=False, batch_size=2)
        assert summary.written == summary.rollouts == 3 * len(TEXTS) and summary.unscored == 3
    assert sorted(run.critics()) == ["math-shepherd", "visualprm", "visualprm-orm"]
    prm, orm = run.read(StepScores, "visualprm"), run.read(StepScores, "visualprm-orm")
    assert [len(s.scores) for s in prm[:3]] == [2, 0, 3] and [len(s.scores) for s in orm[:3]] == [1, 0, 1]
    assert all(not s.scored and s.flags == ("unscored", "empty") for s in prm if not s.steps)
    again = score(run, critics[0], progress=False)  # resume: nothing left to do
    assert again.written == 0 and again.rollouts == 0


def test_overrides_are_bound_into_the_run(run, tiny):
    critic = load_critic("visualprm", str(tiny.critic))
    score(run, critic, progress=False, max_steps=2, question="raw")
    recs = run.read(StepScores, "visualprm")
    assert max(len(s.steps) for s in recs) == 2
    assert run.config("critics.visualprm")["max_steps"] == 2
    assert run.config("critics.visualprm")["question"] == "raw"
    with pytest.raises(ConfigConflict):
        score(run, critic, progress=False, max_steps=12)
    assert critic.max_steps == 2  # a refused override leaves the critic as it was
    score(run, critic, progress=False)  # same settings: accepted
    with pytest.raises(ConfigConflict):
        score(run, critic, progress=False, question="prompt")
