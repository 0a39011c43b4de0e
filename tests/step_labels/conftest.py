"""Helpers of the label tests: a seeded fake engine, a scripted grader with known mc values, small runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.pairs.conftest import P, R, make_run
from tts.critics.steps import split_steps
from tts.engines.base import Completion, Engine, GenerationRequest, SamplingParams, sample_seed
from tts.records import Grade, Problem

# Steps without digits: the strict grader must never find an answer in a prefix by accident.
STEPS = ("First look at the figure.", "Then read the legend.", "Now compare the bars.", "Pick the tallest one.")


def rollout(answer: str, steps: Sequence[str] = STEPS[:2], correct: bool = True) -> R:
    return R("\n\n".join([*steps, f"Answer: \\boxed{{{answer}}}"]), answer, correct)


def small_run(path: Path, policy: str = "fake-policy", problems: Sequence[P] | None = None) -> Path:
    """Two problems with a gold answer (2 and 1 rollouts of 3 steps), one without (skipped)."""
    problems = problems or [
        P("p1", "6", [rollout("6"), rollout("5", STEPS[1:3], False)]),
        P("p2", "4", [rollout("4", STEPS[2:4])], images=2),
        P("p3", None, [rollout("1")]),
    ]
    return make_run(path, problems, critic=None, policy=policy)


class FakeEngine(Engine):
    """Completions named by their seed: ``" c<seed>"``. Records every call; ``fail`` names (problem, prefix end)
    pairs whose request errors; ``image_cache`` counts how often it is entered."""

    name = "fake"
    preferred_batch_size = 8

    def __init__(self, model: str = "fake-policy", fail: Callable[[GenerationRequest], bool] | None = None) -> None:
        super().__init__(model)
        self.calls: list[list[GenerationRequest]] = []
        self.params: list[SamplingParams] = []
        self.fail = fail or (lambda r: False)
        self.cache_blocks = 0

    @contextlib.contextmanager
    def image_cache(self):
        self.cache_blocks += 1
        yield

    def generate(self, requests, params):
        self.calls.append(list(requests))
        self.params.append(params)
        out = []
        for r in requests:
            if self.fail(r):
                raise RuntimeError(f"simulated failure for {r.problem_id}")
            out.append([Completion(i, f" c{sample_seed(r.seed, i)}", "stop", 100, 3, 0.01) for i in range(params.n)])
        return out

    @property
    def requests(self) -> list[GenerationRequest]:
        return [r for call in self.calls for r in call]


class ScriptedGrader:
    """Known mc values: continuation ``j`` of step ``k`` of (problem, sample) is correct iff ``j < f(problem, sample,
    k)``. The step is found from the graded text, which starts with that step's prefix."""

    def __init__(self, run: Path, f: Callable[[str, int, int], int]) -> None:
        from tts.records import Rollout
        from tts.rundir import RunDir

        self.f = f
        self.prefixes: list[tuple[str, str, int, int]] = []
        for r in RunDir.open(run, create=False).read(Rollout):
            steps = split_steps(r.text, max_steps=16)
            for k in range(len(steps)):
                self.prefixes.append(("\n\n".join(steps[: k + 1]), r.problem_id, r.sample_idx, k))
        self.prefixes.sort(key=lambda x: -len(x[0]))
        self.graded = 0

    def locate(self, text: str, problem: Problem) -> tuple[int, int]:
        for prefix, pid, sidx, k in self.prefixes:
            if pid == problem.id and text.startswith(prefix):
                return sidx, k
        raise AssertionError(f"no known prefix for {text!r}")

    def grade(self, items):
        out = []
        for text, problem, j in items:
            sidx, k = self.locate(text, problem)
            ok = j < self.f(problem.id, sidx, k)
            out.append(Grade(problem.id, j, "x", ok, "scripted"))
            self.graded += 1
        return out


@pytest.fixture()
def run_path(tmp_path: Path) -> Path:
    return small_run(tmp_path / "run")
