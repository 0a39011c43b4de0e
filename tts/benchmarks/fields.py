"""Small, safe parsers for dataset fields: stringified lists, option strings, numbers, answer types.

Dataset text is untrusted: a stringified Python list (MMMU ``options``) is read with
``ast.literal_eval``, which only accepts literals, never with ``eval``.

Example:
    >>> parse_str_list("['3 cm', '4 cm']", "options")
    ['3 cm', '4 cm']
    >>> parse_str_list("__import__('os').system('true')", "options")
    Traceback (most recent call last):
    ...
    tts.benchmarks.hub.BadRow: malformed options: not a Python list literal ...
    >>> numeric_answer_type("3.5", fallback="text"), numeric_answer_type("-2", fallback="text")
    ('float', 'integer')
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from tts.benchmarks.hub import BadRow

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def parse_str_list(text: Any, what: str) -> list[str]:
    """A stringified list of strings (``"['a', 'b']"``); anything else is a :class:`BadRow`."""
    if not isinstance(text, str):
        raise BadRow(f"malformed {what}: expected a string holding a list, got {type(text).__name__}")
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise BadRow(f"malformed {what}: not a Python list literal ({type(exc).__name__}: {text[:80]!r})") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRow(f"malformed {what}: expected a list of strings, got {text[:80]!r}")
    return value


def str_list(value: Any, what: str) -> list[str]:
    """A ``datasets`` sequence-of-strings column value (``None`` → empty)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BadRow(f"malformed {what}: expected a list of strings, got {value!r:.80}")
    return list(value)


def opt_str(value: Any) -> str | None:
    """A nullable string column; empty strings become ``None``."""
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def precision_int(value: Any) -> int | None:
    """MathVista stores ``precision`` as float64 (``1.0``); the official scorer casts it with ``int``."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise BadRow(f"malformed precision {value!r}") from exc
    if math.isnan(number):
        return None
    if not number.is_integer() or number < 0:
        raise BadRow(f"malformed precision {value!r}")
    return int(number)


def numeric_answer_type(answer: Any, fallback: str) -> str:
    """``integer`` / ``float`` when the gold is a plain number, else ``fallback``."""
    text = str(answer).strip() if answer is not None else ""
    if _INT.fullmatch(text):
        return "integer"
    if _FLOAT.fullmatch(text):
        return "float"
    return fallback


def letter_options(text: Any, what: str) -> list[str]:
    """``"A. 300, 400;B. 400, 300;C. 500"`` → ``['300, 400', '400, 300', '500']`` (WeMath ``option``).

    Options are separated by ``;`` followed by the next letter and a dot; letters must run A, B, C, ...
    """
    if not isinstance(text, str) or not text.strip():
        raise BadRow(f"malformed {what}: empty")
    parts = re.split(r";\s*(?=[A-Z]\s*[.．:：])", text.strip())
    options = []
    for i, part in enumerate(parts):
        m = re.match(r"\s*([A-Z])\s*[.．:：]\s*(.*)", part, re.S)
        if m is None or m.group(1) != chr(ord("A") + i):
            raise BadRow(f"malformed {what}: cannot split {text[:80]!r} into A., B., ... options")
        options.append(m.group(2).strip().rstrip(";").strip())
    return options


def choices_block(question: str) -> list[str]:
    """Options inlined after a last ``Choices:`` line as ``A:...`` / ``A. ...`` lines (MathVerse).

    Returns ``[]`` when there is no such block or its letters do not run A, B, C, ...
    """
    head, sep, tail = question.rpartition("Choices:")
    if not sep:
        return []
    options: list[str] = []
    for line in tail.strip().splitlines():
        m = re.match(r"\s*\(?([A-Z])\)?\s*[:.：]\s*(.*)", line)
        if m is None or m.group(1) != chr(ord("A") + len(options)):
            return []
        options.append(m.group(2).strip())
    return options
