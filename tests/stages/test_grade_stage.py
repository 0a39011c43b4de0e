"""The grade stage grades a run as the file path grades a file (issue 18): one grading session for the whole
stage, told how many items it will grade (so a large stage starts its worker pool once, not per batch),
with every batch appended as it completes."""

from __future__ import annotations

from pathlib import Path

import pytest

import tts.grading
from tts.grading import Grader, grade
from tts.records import Grade, Problem, Rollout
from tts.rundir import RunDir
from tts.stages import grade_run


class _Recording(Grader):
    sessions: list[_Recording] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        _Recording.sessions.append(self)

    def grade(self, items, *args, **kwargs):
        self.calls += 1
        return super().grade(items, *args, **kwargs)


@pytest.fixture
def recording(monkeypatch):
    _Recording.sessions = []
    monkeypatch.setattr(tts.grading, "Grader", _Recording)
    return _Recording.sessions


def _run(tmp_path: Path, n_problems: int, n: int) -> tuple[RunDir, list[Problem], list[Rollout]]:
    problems = [Problem(id=f"p{i}", benchmark="mathvista", split="testmini", question=f"How many? ({i})",
                        answer=str(i), answer_type="integer") for i in range(n_problems)]
    rollouts = [Rollout(p.id, k, f"We count.\n\nAnswer: \\boxed{{{int(p.answer or 0) + k % 2}}}", "stop", 10, 20,
                        0.1, "m", "transformers") for p in problems for k in range(n)]
    run = RunDir.open(tmp_path / "run")
    run.append(problems)
    run.append(rollouts)
    return run, problems, rollouts


def test_one_session_for_the_whole_stage_and_a_batch_at_a_time(tmp_path: Path, recording) -> None:
    run, problems, rollouts = _run(tmp_path, 25, 8)
    with run:
        assert grade_run(run, batch_size=64, workers=1, progress=False) == 200
        grades = {(g.problem_id, g.sample_idx): g for g in run.read(Grade)}
    assert len(recording) == 1 and recording[0].expected == 200 and recording[0].calls == 4  # 64+64+64+8
    by_id = {p.id: p for p in problems}
    for r in rollouts:
        assert grades[(r.problem_id, r.sample_idx)].correct is grade(r.text, by_id[r.problem_id]).correct
    assert sum(g.correct for g in grades.values()) == 100


def test_a_resumed_stage_grades_only_the_rest_in_one_session(tmp_path: Path, recording) -> None:
    run, _, _ = _run(tmp_path, 10, 4)
    with run:
        run.append([grade(r.text, p, sample_idx=r.sample_idx) for p in run.read(Problem)
                    for r in run.read(Rollout) if r.problem_id == p.id and r.sample_idx < 2])
        assert grade_run(run, batch_size=7, workers=1, progress=False) == 20
    assert len(recording) == 1 and recording[0].expected == 20
