"""The base of every record: JSON conversion, the key in its file, encodable text, and the text hash.

The line formats themselves are documented in :mod:`tts.records`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
GRADING_RULES: tuple[GradingRules, ...] = ("strict", "official")

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
        """Say on the record that some of its text was replaced (see :mod:`tts.records`)."""
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


def records_from_lines(cls: type[R], rows: Sequence[Mapping[str, Any]]) -> list[R]:
    """Turn parsed JSON rows into records of ``cls``."""
    return [cls.from_json(row) for row in rows]
