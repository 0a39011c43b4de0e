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
    ``repetition``. ``search?``: only on the final candidates of a step-level search (``tts search``; the key
    is absent on sampled rollouts): ``{"algorithm", "node", "settings"}``, the search algorithm, the node of
    its tree (``search/<algorithm>.jsonl``) the candidate ends at, and the settings the algorithm read
    (:mod:`tts.search.records`).

``scores/<critic>.jsonl`` — :class:`StepScores`
    ``problem_id, sample_idx, critic, steps, scores, flags, tokens?, text_hash``. ``scores[i]`` is the
    critic's score of ``steps[i]`` (for VisualPRM: P(+) at that step). An empty ``scores`` means unscored
    (flag ``unscored``); every strategy ranks such a rollout last. ``tokens`` is the length of the sequence
    the critic read (for cost accounting), ``null`` when the critic does not report it. ``critic`` is the
    label of the file the line belongs to.

``grades.jsonl`` — :class:`Grade`
    ``problem_id, sample_idx, extracted?, correct, reason, rules, text_hash, flags``. One line per rollout
    and set of grading rules (``strict``: a careful human's verdict, or ``official``: the benchmark's
    published scorer). Lines written before the rename carry the same value under ``scoring``; they are
    read as ``rules``.

``selections.jsonl`` — :class:`Selection`
    ``problem_id, strategy, aggregation, n, critic?, sample_idx?, answer?, flags, text_hash?``. The rollout a
    strategy chose among the first ``n`` samples; ``sample_idx`` is ``null`` when no rollout could be chosen.

What a record depends on (``text_hash``, in scores and grades)
    The first 16 hex digits of the SHA-256 of the rollout ``text`` (UTF-8) the score or grade was computed
    from (:func:`hash_text`). A line whose hash differs from its rollout's is *stale* (the rollout was
    edited, or the line was copied from another run): readers ignore it, the stage computes it again and
    ``tts doctor`` reports it. Lines written before the field existed have no hash: they are read as
    unknown, not stale. Written only when known (an absent key reads as unknown). A selection depends on the
    texts of the first ``n`` rollouts of its problem (through their scores and grades): its ``text_hash`` is
    :func:`hash_texts` of their hashes in sample order, and it is stale, ignored and chosen again, in the same way.

Text that UTF-8 cannot encode (``flags``)
    A lone surrogate (``"\\ud800"``, from a JSON escape in a server reply or a dataset file) cannot be
    written as UTF-8. Every record replaces each one with U+FFFD on construction and says so: the flag
    ``unencodable_replaced`` in ``flags`` (rollouts, scores, grades, selections) or the key
    ``"unencodable_replaced": true`` in a problem's ``meta``. A well-formed surrogate pair becomes its
    character. ``flags`` of grades and selections is written only when not empty.

Outside run directories, ``tts critic-eval`` writes one more record type:

``<out>/scores.jsonl`` — :class:`LabelledStepScores`
    ``sample_id, source, critic, labels, scores, flags, policy_model, tokens?``. A critic's scores of the
    human-labelled steps of one benchmark solution (VisualProcessBench): ``labels[i]`` is the label of step
    ``i`` (1 correct, 0 neutral, -1 incorrect) and ``scores[i]`` the critic's score of it, ``null`` when
    the critic gave it none (``flags`` says why: ``unscored`` with a reason, or ``truncated`` /
    ``dropped_steps:<k>`` when the start of a long solution did not fit the critic's context).

``tts label`` (Monte Carlo step labels, :mod:`tts.step_labels`) writes two more, in its label folder (``RUN/labels``
by default):

``mc_steps.jsonl`` — :class:`MCStep`
    ``problem_id, sample_idx, step_idx, n_steps, correct, total, cut, tokens, prompt_tokens, seconds, seed?,
    digest?, text_hash?, flags``. One step prefix of one rollout (steps ``0..step_idx`` joined by a blank line)
    continued ``total`` times by the policy; ``correct`` continuations reached a correct answer (prefix +
    continuation graded), ``cut`` ended at the token cap (or a loop) rather than the end of sequence. ``mc`` is
    ``correct / total``. ``total`` is 0 only with the flag ``early_stop`` (an earlier step had mc 0, so this one
    is 0 without rollouts, as InternVL's ``--early-stop``). ``tokens`` / ``prompt_tokens`` are the continuations'
    generated tokens and the prompt tokens of the request, ``seconds`` its share of the engine call's wall time;
    ``seed`` the request's seed (continuation ``j`` drew with ``seed + j``), ``digest`` the first 16 hex digits of
    the SHA-256 of the continuation texts (a reproducibility check). The append-only journal the stage resumes
    from, one line per (problem, sample, step).

``labels.jsonl`` — :class:`StepLabels`
    ``problem_id, sample_idx, steps, mc, correct, total, labels, threshold, text_hash?, flags``. One rollout whose
    every step has an :class:`MCStep`: ``labels[i]`` is ``mc[i] > threshold`` (VisualPRM's ``+``). Rewritten from
    the journal at the end of every ``tts label`` call (so a new ``--threshold`` needs no new rollouts).

Example:
    >>> r = Rollout(problem_id="p1", sample_idx=0, text="Answer: \\\\boxed{2}", finish_reason="stop",
    ...             prompt_tokens=10, completion_tokens=5, seconds=0.1, model="m", engine="transformers")
    >>> Rollout.from_json(r.to_json()) == r
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
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


UNENCODABLE_FLAG = "unencodable_replaced"
"""Flag of a record whose text held characters UTF-8 cannot encode (lone surrogates), now U+FFFD."""


def hash_text(text: str) -> str:
    """What a score or grade records of the rollout text it was computed from: the first 16 hex digits of
    the SHA-256 of the text's UTF-8 bytes (64 bits: a changed text goes unnoticed with odds 2**-64).

    Example:
        >>> hash_text("Answer: 2")
        '9eff27922b447367'
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def hash_texts(hashes: Sequence[str]) -> str:
    """What a selection records of the rollout texts it was made from (the first ``n`` of its problem, in sample
    order): :func:`hash_text` of their :func:`hash_text` values, one per line.

    Example:
        >>> hash_texts(["9eff27922b447367"]) == hash_text("9eff27922b447367")
        True
    """
    return hash_text("\n".join(hashes))


def _clean_text(text: str) -> str | None:
    """``text`` with every lone surrogate replaced by U+FFFD (a valid pair becomes its character); ``None``
    when it is already encodable (the common case costs one flag check or one encode)."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _clean(value: Any) -> tuple[Any, bool]:
    """``value`` with its strings (inside tuples, lists and mappings too) made encodable; (value, changed)."""
    if isinstance(value, str):
        cleaned = _clean_text(value)
        return (value, False) if cleaned is None else (cleaned, True)
    if isinstance(value, tuple | list):
        items = [_clean(v) for v in value]
        if not any(changed for _, changed in items):
            return value, False
        return type(value)(v for v, _ in items), True
    if isinstance(value, Mapping):
        pairs = [(_clean(k), _clean(v)) for k, v in value.items()]
        if not any(kc or vc for (_, kc), (_, vc) in pairs):
            return value, False
        return {k: v for (k, _), (v, _) in pairs}, True
    return value, False


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


_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}
_FIELD_NAMES: dict[type, tuple[frozenset[str], frozenset[str]]] = {}


def _text_fields(cls: type) -> tuple[str, ...]:
    """Fields that may hold text: everything but plain numbers and booleans (cached per class)."""
    if cls not in _TEXT_FIELDS:
        plain = {"int", "float", "bool", "int | None", "float | None", "bool | None"}
        _TEXT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if str(f.type) not in plain)
    return _TEXT_FIELDS[cls]


def _field_names(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """(all field names, required field names) of a record class; cached, since reading a run calls it
    once per line."""
    if cls not in _FIELD_NAMES:
        fields = dataclasses.fields(cls)
        required = {f.name for f in fields
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        _FIELD_NAMES[cls] = frozenset(f.name for f in fields), frozenset(required)
    return _FIELD_NAMES[cls]


@dataclass(frozen=True)
class Record:
    """Base of the pipeline records: JSON conversion and the key that identifies a record in its file."""

    STAGE: ClassVar[str] = ""
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ()
    _OMIT_WHEN_EMPTY: ClassVar[tuple[str, ...]] = ()
    """Optional fields left out of the JSON line while empty/``None`` (so older line formats are unchanged)."""

    def __post_init__(self) -> None:
        for name in self._TUPLE_FIELDS:
            object.__setattr__(self, name, _as_tuple(getattr(self, name)))
        replaced = False
        for name in _text_fields(type(self)):
            value, changed = _clean(getattr(self, name))
            if changed:
                object.__setattr__(self, name, value)
                replaced = True
        if replaced:
            self._mark_replaced()
        self.validate()

    def _mark_replaced(self) -> None:
        """Say on the record that some of its text was replaced (see the module docstring)."""
        flags = getattr(self, "flags", None)
        if isinstance(flags, tuple) and UNENCODABLE_FLAG not in flags:
            object.__setattr__(self, "flags", (*flags, UNENCODABLE_FLAG))

    def validate(self) -> None:
        """Raise :class:`RecordError` when a field holds an impossible value."""

    def key(self) -> tuple:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        out = {f.name: _to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        for name in self._OMIT_WHEN_EMPTY:
            if out.get(name) in (None, [], ""):
                out.pop(name, None)
        return out

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


DEPENDENT_TYPES: tuple[type[StepScores], type[Grade]] = (StepScores, Grade)
"""Records computed from one rollout's text (they carry ``text_hash``)."""

#: The record types of a run directory, by stage (``LabelledStepScores`` lives outside runs; ``MCStep`` and
#: ``StepLabels`` in a label folder).
RECORD_TYPES: dict[str, type[Record]] = {
    cls.STAGE: cls for cls in (Problem, Rollout, StepScores, Grade, Selection)
}


def records_from_lines(cls: type[R], rows: Sequence[Mapping[str, Any]]) -> list[R]:
    """Turn parsed JSON rows into records of ``cls``."""
    return [cls.from_json(row) for row in rows]
