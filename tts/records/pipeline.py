"""The five records of a run directory, in the stages' order: problem → rollout → step scores → grade → selection.

Their line formats are documented in :mod:`tts.records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tts.records.base import (
    ANSWER_TYPES,
    FINISH_REASONS,
    QUESTION_TYPES,
    UNENCODABLE_FLAG,
    AnswerType,
    FinishReason,
    GradingRules,
    QuestionType,
    Record,
    RecordError,
    _as_tuple,
    hash_text,
)


@dataclass(frozen=True)
class Problem(Record):
    """One benchmark question, with everything grading needs and nothing model-specific."""

    STAGE: ClassVar[str] = "problems"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("images", "choices")

    id: str
    benchmark: str
    split: str
    question: str
    images: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    answer: str | tuple[str, ...] | None = None
    question_type: QuestionType = "free_form"
    answer_type: AnswerType = "expression"
    precision: int | None = None
    unit: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.answer, list):
            object.__setattr__(self, "answer", tuple(self.answer))
        if self.precision is not None:
            object.__setattr__(self, "precision", int(self.precision))
        super().__post_init__()

    def _mark_replaced(self) -> None:
        object.__setattr__(self, "meta", {**dict(self.meta), UNENCODABLE_FLAG: True})

    def validate(self) -> None:
        if not self.id:
            raise RecordError("Problem.id must not be empty")
        if self.question_type not in QUESTION_TYPES:
            raise RecordError(f"Problem.question_type {self.question_type!r} not in {QUESTION_TYPES}")
        if self.answer_type not in ANSWER_TYPES:
            raise RecordError(f"Problem.answer_type {self.answer_type!r} not in {ANSWER_TYPES}")

    def key(self) -> tuple:
        return (self.id,)

    @property
    def golds(self) -> tuple[str, ...]:
        """Every accepted gold answer (one for most benchmarks, several for a few MMMU items)."""
        if self.answer is None:
            return ()
        return self.answer if isinstance(self.answer, tuple) else (self.answer,)


@dataclass(frozen=True)
class Rollout(Record):
    """One chain-of-thought sample of the policy for one problem."""

    STAGE: ClassVar[str] = "rollouts"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("flags",)

    problem_id: str
    sample_idx: int
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    model: str
    engine: str
    seed: int | None = None
    flags: tuple[str, ...] = ()
    search: Mapping[str, Any] | None = None

    def validate(self) -> None:
        if self.sample_idx < 0:
            raise RecordError("Rollout.sample_idx must be >= 0")
        if self.finish_reason not in FINISH_REASONS:
            raise RecordError(f"Rollout.finish_reason {self.finish_reason!r} not in {FINISH_REASONS}")
        if self.search is not None:
            if not isinstance(self.search, Mapping) or not {"algorithm", "node", "settings"} <= self.search.keys():
                raise RecordError("Rollout.search must be null or hold algorithm, node and settings")
            object.__setattr__(self, "search", dict(self.search))

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.search is None:
            del out["search"]  # sampled rollouts keep their line format
        return out

    def key(self) -> tuple:
        return (self.problem_id, self.sample_idx)

    @property
    def text_hash(self) -> str:
        """:func:`hash_text` of this rollout's text: what its scores and grades record."""
        return hash_text(self.text)


@dataclass(frozen=True)
class StepScores(Record):
    """A critic's score for every step of one rollout. Aggregation into one number happens later."""

    STAGE: ClassVar[str] = "scores"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("steps", "scores", "flags")
    _OMIT_WHEN_EMPTY: ClassVar[tuple[str, ...]] = ("text_hash",)

    problem_id: str
    sample_idx: int
    critic: str
    steps: tuple[str, ...]
    scores: tuple[float, ...]
    flags: tuple[str, ...] = ()
    tokens: int | None = None
    text_hash: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", tuple(float(s) for s in _as_tuple(self.scores)))
        super().__post_init__()

    def validate(self) -> None:
        if self.scores and len(self.scores) != len(self.steps):
            raise RecordError(
                f"StepScores: {len(self.scores)} scores for {len(self.steps)} steps "
                f"({self.problem_id}#{self.sample_idx})"
            )

    @property
    def scored(self) -> bool:
        return bool(self.scores)

    def key(self) -> tuple:
        return (self.problem_id, self.sample_idx)


@dataclass(frozen=True)
class Grade(Record):
    """Whether one rollout's final answer is right, under one set of grading rules."""

    STAGE: ClassVar[str] = "grades"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("flags",)
    _OMIT_WHEN_EMPTY: ClassVar[tuple[str, ...]] = ("text_hash", "flags")

    problem_id: str
    sample_idx: int
    extracted: str | None
    correct: bool
    reason: str
    rules: GradingRules = "strict"
    text_hash: str | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Grade:
        if isinstance(data, Mapping) and "scoring" in data and "rules" not in data:
            data = {**{k: v for k, v in data.items() if k != "scoring"}, "rules": data["scoring"]}
        return super().from_json(data)

    def key(self) -> tuple:
        return (self.problem_id, self.sample_idx, self.rules)


@dataclass(frozen=True)
class Selection(Record):
    """The rollout a selection strategy picked among the first ``n`` samples of a problem."""

    STAGE: ClassVar[str] = "selections"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("flags",)
    _OMIT_WHEN_EMPTY: ClassVar[tuple[str, ...]] = ("flags", "text_hash")

    problem_id: str
    strategy: str
    aggregation: str
    n: int
    critic: str | None
    sample_idx: int | None
    answer: str | None
    flags: tuple[str, ...] = ()
    text_hash: str | None = None  # hash_texts() of the first n rollouts' text hashes: what the pick was made from

    def key(self) -> tuple:
        return (self.problem_id, self.strategy, self.aggregation, self.n, self.critic)
