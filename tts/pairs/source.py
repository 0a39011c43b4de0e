"""A run directory read once into what pair building needs: per problem, its rollouts with grade and score.

Only ``strict`` grades are used (the benchmark-independent answer check); ``official`` grades follow a
benchmark's scorer quirks and are not a training signal. A rollout's *outcome* is one of

* ``correct`` — its strict grade says correct;
* ``incorrect`` — an answer was extracted and it is wrong;
* ``format`` — no answer could be extracted (MMPR's "format" negatives);
* ``ungraded`` — no strict grade yet (left out of every pool, and counted);
* ``error`` — the engine failed on it (``finish_reason == "error"``; never a training text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tts.labels import pick_critic
from tts.manifest import POLICY_ENGINE
from tts.prompts import PROMPT_SETS, build_prompt
from tts.records import Grade, Problem, Record, Rollout, StepScores
from tts.rundir import ConfigConflict, RunDir

R = TypeVar("R", bound=Record)

OUTCOMES = ("correct", "incorrect", "format", "ungraded", "error")


@dataclass(frozen=True)
class Sample:
    """One rollout with everything the pair rules look at."""

    idx: int
    text: str
    finish_reason: str
    grade: Grade | None
    steps: tuple[str, ...] = ()
    step_scores: tuple[float, ...] = ()
    score: float | None = None  # aggregated critic score; None when unscored or no critic

    @property
    def outcome(self) -> str:
        if self.finish_reason == "error":
            return "error"
        if self.grade is None:
            return "ungraded"
        if self.grade.correct:
            return "correct"
        return "format" if self.grade.extracted is None else "incorrect"

    @property
    def extracted(self) -> str | None:
        return self.grade.extracted if self.grade is not None else None


@dataclass
class RunView:
    """The parts of a run that pair building reads, grouped by problem (samples sorted by index)."""

    path: Path
    problems: list[Problem]
    samples: dict[str, list[Sample]]
    prompt_set: str
    system_message: str | None  # the policy's, as the run records it (None: the run does not say)
    critic: str | None
    aggregation: str
    rollouts_total: int
    policy: dict[str, Any] = field(default_factory=dict)  # the run's bound policy config (model, engine, …)
    policy_engine: dict[str, Any] = field(default_factory=dict)  # engine and options the rollouts were sampled with
    _prompts: dict[str, str] = field(default_factory=dict, repr=False)
    _images: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def prompt(self, problem: Problem) -> str:
        """The exact policy prompt of the rollouts (text with ``<image>`` placeholders)."""
        if problem.id not in self._prompts:
            self._prompts[problem.id] = build_prompt(problem, self.prompt_set)
        return self._prompts[problem.id]

    def image_paths(self, problem: Problem) -> tuple[str, ...]:
        """Absolute paths of the problem's image files, in placeholder order."""
        if problem.id not in self._images:
            self._images[problem.id] = tuple(str(self.path / ref) for ref in problem.images)  # absolute refs stay
        return self._images[problem.id]

    def missing_images(self, problem: Problem) -> list[str]:
        return [p for p in self.image_paths(problem) if not Path(p).is_file()]


def _read(run: RunDir, cls: type[R], critic: str | None = None, keep: Callable[[dict[str, Any]], bool] | None = None) -> list[R]:
    """``RunDir.read`` that parses only the rows ``keep`` accepts (half of grades.jsonl is official grades)."""
    return run.read(cls, critic, keep=keep)  # duplicates, stale and foreign lines ignored as every reader does


def check_prompt_files(run: RunDir, prompt_cfg: dict[str, Any]) -> None:
    """Refuse to re-render prompts whose files changed since sampling: pairs must carry the prompt the policy saw."""
    stored = prompt_cfg.get("fingerprint")
    if not stored:
        return
    current = PROMPT_SETS.get(prompt_cfg.get("set", "internvl_cot")).fingerprint()
    if current != stored:
        raise ConfigConflict(
            f"{run.path} was sampled with other prompt files (prompt set {prompt_cfg.get('set')!r}, fingerprint "
            f"{stored}, now {current}); the rollouts' prompts cannot be re-rendered. Restore the prompt files "
            "the run was sampled with."
        )


def aggregate(step_scores: Sequence[float], how: str) -> float | None:
    """One rollout score from its step scores (the selection strategies' aggregation); None when unscored."""
    from tts.strategies import aggregate as _aggregate

    return _aggregate(step_scores, how)


def load_run(run_dir: str | Path, *, critic: str | None = None, critic_required: bool = False,
             aggregation: str = "mean", system_message: str | None = None) -> RunView:
    """Read problems, rollouts, strict grades and (optionally) one critic's scores of a run directory."""
    run = RunDir.open(run_dir, create=False)
    label = pick_critic(run, critic, required=critic_required, several="error" if critic_required else "none")
    prompt_cfg = run.config("prompt") or {}
    check_prompt_files(run, prompt_cfg)
    if system_message is None:
        policy_info: dict[str, Any] = (run.manifest.get("models") or {}).get("policy") or {}
        system_message = policy_info.get("system_message")  # "" is an empty system turn, not none
    grades = {(g.problem_id, g.sample_idx): g for g in _read(run, Grade, keep=lambda row: row.get("rules", row.get("scoring", "strict")) == "strict")}
    scores = {s.key(): s for s in run.read(StepScores, label)} if label else {}
    samples: dict[str, list[Sample]] = {}
    rollouts = run.read(Rollout)
    for r in rollouts:
        s: StepScores | None = scores.get(r.key())
        step_scores = s.scores if s is not None else ()
        samples.setdefault(r.problem_id, []).append(Sample(
            idx=r.sample_idx, text=r.text, finish_reason=r.finish_reason, grade=grades.get(r.key()),
            steps=s.steps if s is not None else (), step_scores=step_scores,
            score=aggregate(step_scores, aggregation) if step_scores else None,
        ))
    for group in samples.values():
        group.sort(key=lambda x: x.idx)
    return RunView(Path(run.path).resolve(), run.problems(), samples, prompt_cfg.get("set", "internvl_cot"),
                   system_message, label, aggregation, len(rollouts), dict(run.config("policy") or {}),
                   dict(run.manifest.get(POLICY_ENGINE) or {}))
