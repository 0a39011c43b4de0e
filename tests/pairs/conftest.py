"""Hand-made run directories for the pair tests: problems, rollouts, strict grades and critic scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tts.critics.steps import split_steps
from tts.images import ImageStore
from tts.prompts import PROMPT_SETS
from tts.records import FinishReason, Grade, Problem, Rollout, StepScores
from tts.rundir import RunDir

SYSTEM = "You are a careful assistant."


@dataclass
class R:
    """One hand-made rollout: its text, what the grader extracted, whether it is correct, its step scores."""

    text: str
    extracted: str | None
    correct: bool
    scores: Sequence[float] | None = None  # one per "\n\n" step; None = unscored
    finish: FinishReason = "stop"
    graded: bool = True


@dataclass
class P:
    id: str
    answer: str | None
    rollouts: list[R]
    images: int = 1
    question: str = ""
    benchmark: str = "demo"
    choices: tuple[str, ...] = ()
    image_key: int | None = None  # problems with the same key share their image


def ok(answer: str, steps: Sequence[str] = ("Look at the figure.",), scores: Sequence[float] | None = None) -> R:
    return R("\n\n".join([*steps, f"Answer: \\boxed{{{answer}}}"]), answer, True, scores)


def bad(answer: str, steps: Sequence[str] = ("Look at the figure.",), scores: Sequence[float] | None = None) -> R:
    return R("\n\n".join([*steps, f"Answer: \\boxed{{{answer}}}"]), answer, False, scores)


def unparsable(text: str = "I am not sure what the figure shows", scores: Sequence[float] | None = None) -> R:
    return R(text, None, False, scores)


def make_run(path: Path, problems: Sequence[P], *, critic: str | None = "visualprm", policy: str = "tiny-policy",
             system: str | None = SYSTEM) -> Path:
    """Write a run directory with the given problems and rollouts; returns its path. ``system``: the policy's
    system message the run records (``None``: a run that records none)."""
    from PIL import Image

    run = RunDir.open(path)
    run.bind("prompt", {"set": "internvl_cot", "fingerprint": PROMPT_SETS.get("internvl_cot").fingerprint()})
    run.bind("policy", {"model": policy, "engine": "transformers"})
    run.set_model_info("policy", {"model": policy, "engine": "transformers",
                                  **({} if system is None else {"system_message": system})})
    store = ImageStore(path)
    colors = ["red", "green", "blue", "white", "black", "yellow"]
    recs_p, recs_r, recs_g, recs_s = [], [], [], []
    for k, p in enumerate(problems):
        key = k if p.image_key is None else p.image_key
        refs = tuple(store.put(Image.new("RGB", (32 + key, 24 + i), colors[(key + i) % len(colors)])) for i in range(p.images))
        recs_p.append(Problem(id=p.id, benchmark=p.benchmark, split="test", question=p.question or f"Question {p.id}?",
                              images=refs, answer=p.answer, choices=p.choices,
                              question_type="multi_choice" if p.choices else "free_form"))
        for i, r in enumerate(p.rollouts):
            recs_r.append(Rollout(p.id, i, r.text, r.finish, 10, 20, 0.1, policy, "transformers", seed=1))
            if r.graded:
                recs_g.append(Grade(p.id, i, r.extracted, r.correct, "match" if r.correct else "mismatch"))
            if r.scores is not None:
                steps = split_steps(r.text, max_steps=None)
                assert len(steps) == len(r.scores), (steps, r.scores)
                recs_s.append(StepScores(p.id, i, critic or "visualprm", tuple(steps), tuple(r.scores)))
    run.append(recs_p)
    run.append(recs_r)
    run.append(recs_g)
    # An official grade must never be read by the pair rules: make it the opposite of the strict one.
    run.append([Grade(g.problem_id, g.sample_idx, g.extracted, not g.correct, "official", "official") for g in recs_g])
    if critic and recs_s:
        run.append(recs_s, critic=critic)
    return path


@pytest.fixture()
def run_factory(tmp_path: Path):
    counter = iter(range(1000))

    def factory(problems: Sequence[P], **kw) -> Path:
        return make_run(tmp_path / f"run{next(counter)}", problems, **kw)

    return factory
