"""Step-label records outside a run's five: a critic's scores of human-labelled steps (``tts critic-eval``) and
Monte Carlo step labels (``tts label``). Their line formats are documented in :mod:`tts.records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tts.records.base import Record, RecordError, _as_tuple


@dataclass(frozen=True)
class LabelledStepScores(Record):
    """A critic's scores for the labelled steps of one benchmark solution (``tts critic-eval``)."""

    STAGE: ClassVar[str] = "critic_eval"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("labels", "scores", "flags")

    sample_id: str
    source: str
    critic: str
    labels: tuple[int, ...]
    scores: tuple[float | None, ...]
    flags: tuple[str, ...] = ()
    policy_model: str = ""
    tokens: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(int(v) for v in _as_tuple(self.labels)))
        object.__setattr__(self, "scores", tuple(None if s is None else float(s) for s in _as_tuple(self.scores)))
        super().__post_init__()

    def validate(self) -> None:
        if len(self.scores) != len(self.labels):
            raise RecordError(f"LabelledStepScores: {len(self.scores)} scores for {len(self.labels)} labels "
                              f"({self.sample_id})")
        if any(v not in (-1, 0, 1) for v in self.labels):
            raise RecordError(f"LabelledStepScores: labels must be 1, 0 or -1 ({self.sample_id})")

    @property
    def scored(self) -> bool:
        return any(s is not None for s in self.scores)

    def key(self) -> tuple:
        return (self.sample_id,)


@dataclass(frozen=True)
class MCStep(Record):
    """The Monte Carlo estimate of one step prefix of one rollout: K continuations, how many were correct."""

    STAGE: ClassVar[str] = "mc_steps"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("flags",)

    problem_id: str
    sample_idx: int
    step_idx: int
    n_steps: int
    correct: int
    total: int
    cut: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0
    seed: int | None = None
    digest: str | None = None
    text_hash: str | None = None
    flags: tuple[str, ...] = ()

    def validate(self) -> None:
        where = f"({self.problem_id}#{self.sample_idx} step {self.step_idx})"
        if not 0 <= self.step_idx < self.n_steps:
            raise RecordError(f"MCStep: step_idx {self.step_idx} outside 0..{self.n_steps - 1} {where}")
        if not 0 <= self.correct <= self.total or not 0 <= self.cut <= self.total:
            raise RecordError(f"MCStep: correct {self.correct} / cut {self.cut} of {self.total} continuations {where}")

    @property
    def mc(self) -> float:
        """The share of continuations that reached a correct answer (0 for a step skipped by early stop)."""
        return self.correct / self.total if self.total else 0.0

    def key(self) -> tuple:
        return (self.problem_id, self.sample_idx, self.step_idx)


@dataclass(frozen=True)
class StepLabels(Record):
    """Monte Carlo step labels of one rollout: every step's mc score, counts and ``+``/``-`` label."""

    STAGE: ClassVar[str] = "labels"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("steps", "mc", "correct", "total", "labels", "flags")

    problem_id: str
    sample_idx: int
    steps: tuple[str, ...]
    mc: tuple[float, ...]
    correct: tuple[int, ...]
    total: tuple[int, ...]
    labels: tuple[bool, ...]
    threshold: float = 0.0
    text_hash: str | None = None
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "mc", tuple(float(v) for v in _as_tuple(self.mc)))
        super().__post_init__()

    def validate(self) -> None:
        n = len(self.steps)
        if not all(len(v) == n for v in (self.mc, self.correct, self.total, self.labels)):
            raise RecordError(f"StepLabels: steps, mc, correct, total and labels differ in length "
                              f"({self.problem_id}#{self.sample_idx})")

    def key(self) -> tuple:
        return (self.problem_id, self.sample_idx)
