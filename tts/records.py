"""The five pipeline records and their JSON line formats: problem → rollout → step scores → grade → selection.

That is the stages' order (:mod:`tts.stages`): rollouts are scored by a critic and graded, and a selection
reads both (the critic's scores and the strict grades, whose extracted answers the votes cluster).

Every stage of a run writes exactly one record type, one JSON object per line, and never edits a record
written by another stage. Records are frozen dataclasses; sequences are stored as tuples so a record can
not be changed after it is made. This module is the single place where the line formats are defined.

Line formats (keys in order; ``?`` marks a key that may be ``null``):

``problems.jsonl`` — :class:`Problem`
    ``id, benchmark, split, question, images, choices, answer?, question_type, answer_type, precision?,
    unit?, meta``. ``images`` are file paths relative to the run directory (or absolute); images are never
    inlined. ``question_type`` is ``multi_choice|free_form``; ``answer_type`` is
    ``text|integer|float|list|expression``. ``answer`` is a string, or a list of strings when several golds
    are accepted (MMMU), or ``null`` when the split hides its answers.

``rollouts.jsonl`` — :class:`Rollout`
    ``problem_id, sample_idx, text, finish_reason, prompt_tokens, completion_tokens, seconds, model, engine,
    seed?, flags``. ``text`` is the response as InternVL's ``model.chat`` returns it (cut at ``<|im_end|>``,
    stripped; :func:`tts.stages.sample.reference_response`), ``completion_tokens`` counts the raw decode.
    ``finish_reason`` is ``stop|length|error``. ``seconds`` is this rollout's share of the
    wall time of the engine call that produced it, so the sum over rollouts is the sampling wall time.
    ``seed`` is the per-problem seed the engine was given. ``flags`` holds markers such as ``greedy`` or
    ``repetition``.

``scores/<critic>.jsonl`` — :class:`StepScores`
    ``problem_id, sample_idx, critic, steps, scores, flags, tokens?``. ``scores[i]`` is the critic's score
    of ``steps[i]`` (for VisualPRM: P(+) at that step). An empty ``scores`` means unscored (flag
    ``unscored``); every strategy ranks such a rollout last. ``tokens`` is the length of the sequence the
    critic read (for cost accounting), ``null`` when the critic does not report it.

``grades.jsonl`` — :class:`Grade`
    ``problem_id, sample_idx, extracted?, correct, reason, rules``. One line per rollout and set of grading
    rules (``strict``: a careful human's verdict, or ``official``: the benchmark's published scorer). Lines
    written before the rename carry the same value under ``scoring``; they are read as ``rules``.

``selections.jsonl`` — :class:`Selection`
    ``problem_id, strategy, aggregation, n, critic?, sample_idx?, answer?``. The rollout a strategy chose
    among the first ``n`` samples; ``sample_idx`` is ``null`` when no rollout could be chosen.

Outside run directories, ``tts critic-eval`` writes one more record type:

``<out>/scores.jsonl`` — :class:`LabelledStepScores`
    ``sample_id, source, critic, labels, scores, flags, policy_model, tokens?``. A critic's scores of the
    human-labelled steps of one benchmark solution (VisualProcessBench): ``labels[i]`` is the label of step
    ``i`` (1 correct, 0 neutral, -1 incorrect) and ``scores[i]`` the critic's score of it, ``null`` when
    the critic gave it none (``flags`` says why: ``unscored`` with a reason, or ``truncated`` /
    ``dropped_steps:<k>`` when the start of a long solution did not fit the critic's context).

Example:
    >>> r = Rollout(problem_id="p1", sample_idx=0, text="Answer: \\\\boxed{2}", finish_reason="stop",
    ...             prompt_tokens=10, completion_tokens=5, seconds=0.1, model="m", engine="transformers")
    >>> Rollout.from_json(r.to_json()) == r
    True
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from tts.errors import TTSError

SCHEMA_VERSION = 1

QuestionType = Literal["multi_choice", "free_form"]
AnswerType = Literal["text", "integer", "float", "list", "expression"]
FinishReason = Literal["stop", "length", "error"]
GradingRules = Literal["strict", "official"]

QUESTION_TYPES: tuple[str, ...] = ("multi_choice", "free_form")
ANSWER_TYPES: tuple[str, ...] = ("text", "integer", "float", "list", "expression")
FINISH_REASONS: tuple[str, ...] = ("stop", "length", "error")

R = TypeVar("R", bound="Record")


class RecordError(TTSError, ValueError):
    """A JSON line does not describe a valid record (missing key, wrong type or value)."""


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return (value,)
    return tuple(value)


def _to_plain(value: Any) -> Any:
    """Tuples become lists and mappings become dicts, recursively, so ``json.dumps`` accepts them."""
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_plain(v) for k, v in value.items()}
    return value


@functools.cache
def _field_names(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """(all field names, required field names) of a record class; cached, since reading a run calls it
    once per line."""
    fields = dataclasses.fields(cls)
    required = {f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    return frozenset(f.name for f in fields), frozenset(required)


@dataclass(frozen=True)
class Record:
    """Base of the pipeline records: JSON conversion and the key that identifies a record in its file."""

    STAGE: ClassVar[str] = ""
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._TUPLE_FIELDS:
            object.__setattr__(self, name, _as_tuple(getattr(self, name)))
        self.validate()

    def validate(self) -> None:
        """Raise :class:`RecordError` when a field holds an impossible value."""

    def key(self) -> tuple:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {f.name: _to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_line(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
        if not isinstance(data, Mapping):
            raise RecordError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        names, required = _field_names(cls)
        missing = required - data.keys()
        if missing:
            raise RecordError(f"{cls.__name__}: missing key(s) {sorted(missing)}")
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except (TypeError, ValueError) as exc:
            raise RecordError(f"{cls.__name__}: {exc}") from exc


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

    def validate(self) -> None:
        if self.sample_idx < 0:
            raise RecordError("Rollout.sample_idx must be >= 0")
        if self.finish_reason not in FINISH_REASONS:
            raise RecordError(f"Rollout.finish_reason {self.finish_reason!r} not in {FINISH_REASONS}")

    def key(self) -> tuple:
        return (self.problem_id, self.sample_idx)


@dataclass(frozen=True)
class StepScores(Record):
    """A critic's score for every step of one rollout. Aggregation into one number happens later."""

    STAGE: ClassVar[str] = "scores"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("steps", "scores", "flags")

    problem_id: str
    sample_idx: int
    critic: str
    steps: tuple[str, ...]
    scores: tuple[float, ...]
    flags: tuple[str, ...] = ()
    tokens: int | None = None

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

    problem_id: str
    sample_idx: int
    extracted: str | None
    correct: bool
    reason: str
    rules: GradingRules = "strict"

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

    problem_id: str
    strategy: str
    aggregation: str
    n: int
    critic: str | None
    sample_idx: int | None
    answer: str | None

    def key(self) -> tuple:
        return (self.problem_id, self.strategy, self.aggregation, self.n, self.critic)


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


#: The record types of a run directory, by stage (``LabelledStepScores`` lives outside runs).
RECORD_TYPES: dict[str, type[Record]] = {
    cls.STAGE: cls for cls in (Problem, Rollout, StepScores, Grade, Selection)
}


def records_from_lines(cls: type[R], rows: Sequence[Mapping[str, Any]]) -> list[R]:
    """Turn parsed JSON rows into records of ``cls``."""
    return [cls.from_json(row) for row in rows]
