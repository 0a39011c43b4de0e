"""Scores and grades carry the hash of the rollout text they were computed from: a hand-edited rollout, or
scores copied from another run under the same label, are found stale, reported and computed again."""

from __future__ import annotations

import shutil

import pytest

from tts.critics import load_critic
from tts.doctor import doctor
from tts.records import Grade, Problem, Rollout, Selection, StepScores
from tts.rundir import RunDir
from tts.stages import add_problems, grade_run, score, select_run
from tts.stages.report_sections import cost_section

TEXTS = ["We look at the figure.\n\nThe answer is (C).", "x = 2\n\ny = -1\n\nAnswer: \\boxed{1}"]


def _make(path, texts=TEXTS) -> RunDir:
    run = RunDir.open(path)
    problems = add_problems(run, ["demo"], limit=2)
    run.append([Rollout(p.id, i, f"{t} ({p.id})", "stop", 10, 5, 0.1, "m", "transformers")
                for p in problems for i, t in enumerate(texts)])
    return run


@pytest.fixture()
def critic(tiny):
    c = load_critic("visualprm", str(tiny.critic))
    yield c
    c.close()


def test_a_hand_edited_rollout_is_scored_and_graded_again(tmp_path, critic, caplog):
    run = _make(tmp_path / "run")
    assert score(run, critic, progress=False).written == 4 and grade_run(run, progress=False) == 4
    assert all(s.text_hash == r.text_hash for s, r in zip(run.read(StepScores, "visualprm"), run.read(Rollout)))
    lines = run.file("rollouts").read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("x = 2", "x = 3")  # a user fixes a rollout by hand
    run.file("rollouts").write_text("".join(lines))
    edited = run.read(Rollout)[1]
    assert "2 stale" in "\n".join(doctor(run.path).lines())  # its score and its grade
    again = score(run, critic, progress=False)
    assert again.written == 1 and grade_run(run, progress=False) == 1
    scores = {s.key(): s for s in run.read(StepScores, "visualprm")}
    assert scores[edited.key()].text_hash == edited.text_hash and len(scores) == 4
    assert {g.key(): g.text_hash for g in run.read(Grade)}[(*edited.key(), "strict")] == edited.text_hash
    assert "stale" in caplog.text and "computed again" in caplog.text
    assert cost_section(run)["critics"]["visualprm"]["rollouts"] == 4  # the stale line is not counted


def test_scores_copied_from_another_run_under_the_same_label_are_not_used(tmp_path, critic):
    other = _make(tmp_path / "other", texts=["Another rollout.\n\nAnswer: 3", "And another.\n\nAnswer: 4"])
    score(other, critic, progress=False)
    run = _make(tmp_path / "run")
    (run.path / "scores").mkdir()
    shutil.copy(other.file("scores", "visualprm"), run.file("scores", "visualprm"))
    run.bind("critics.visualprm", critic.identity())  # the same critic, so only the texts tell them apart
    assert run.read(StepScores, "visualprm") == [] and run.ignored["scores/visualprm.jsonl"] == {"stale": 4}
    assert score(run, critic, progress=False).written == 4
    assert [s.text_hash for s in run.read(StepScores, "visualprm")] == [r.text_hash for r in run.read(Rollout)]


def test_a_selection_made_before_a_rollout_was_edited_is_made_again(tmp_path, critic):
    """A selection is computed from the texts of the first n rollouts (through their scores and grades): after a
    hand edit it is stale like them, and ``select`` chooses again instead of keeping the old pick's answer."""
    run = _make(tmp_path / "run")
    score(run, critic, progress=False)
    grade_run(run, progress=False)
    assert select_run(run, "visualprm", strategies=("best_of_n", "majority")) == 4
    first = run.read(Problem)[0]
    rollouts = run.file("rollouts")
    rollouts.write_text(rollouts.read_text().replace(f"(C). ({first.id})", f"(D). ({first.id})")
                        .replace(f"{{1}} ({first.id})", f"{{7}} ({first.id})"))  # both of its answers change
    score(run, critic, progress=False)
    grade_run(run, progress=False)
    assert select_run(run, "visualprm", strategies=("best_of_n", "majority")) == 2  # that problem's two
    grades = {(g.problem_id, g.sample_idx): g.extracted for g in run.read(Grade)}
    selections = run.read(Selection)
    assert len(selections) == 4 and run.ignored["selections.jsonl"] == {"stale": 2}
    for s in selections:
        assert s.answer == grades[(s.problem_id, s.sample_idx)]
    assert {s.answer for s in selections if s.problem_id == first.id} <= {"D", "7"}
    assert sum("selections.jsonl" in line and "stale" in line for line in doctor(run.path).lines()) == 2
