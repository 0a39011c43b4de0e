"""Multiple choice: option letters in their common spellings, and option texts, mapped both ways.

Golds differ by benchmark (MathVista stores the option *text*, the others a letter, LogicVista sometimes
several letters "A, C"), and so do predictions ("B", "(B)", "B. 6 cm", "option B", "6 cm"). Everything
is turned into a set of letters and compared as sets, so "A, C" equals "C, A".

Example:
    >>> parse_letters("(B) 6 cm", 4)
    frozenset({'B'})
    >>> sorted(parse_letters("C and A", 5))
    ['A', 'C']
    >>> options_from_question("Which angle?\\nChoices:\\nA:40°\\nB:60°\\nC:80°")
    ('40°', '60°', '80°')
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tts.grading.text import clean, squash, text_key

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_OPTION_COUNT = 10  # letters A-J when a problem does not say how many options it has

_SINGLE = re.compile(
    r"^(?:(?:the\s+)?(?:correct\s+)?(?:option|choice|answer)\s*(?:is\s*)?:?\s*)?"
    r"[(\[{]?\s*(?P<l>[A-Za-z])\s*[)\]}]?\s*(?:[.:)\-]\s*(?P<rest>.*))?$",
    re.DOTALL | re.IGNORECASE,
)
_LEAD = re.compile(r"^[(\[]?(?P<l>[A-Z])(?:[)\]]\s*|[.:]\s+|\s+-\s+)(?P<rest>\S.*)$", re.DOTALL)
_MULTI = re.compile(r"^[(\[]?[A-Z][)\]]?(?:\s*(?:,\s*and\b|,|;|/|&|\band\b|\s)\s*[(\[]?[A-Z][)\]]?)+$")
_MULTI_LOWER = re.compile(r"^\(?[a-j]\)?(?:\s*(?:,\s*and\b|,|;|/|&|\band\b)\s*\(?[a-j]\)?)+$")
_OPTION_LINE = re.compile(r"^[ \t]*[(\[]?(?P<l>[A-Z])[ \t]*[)\]]?[ \t]*[:.)：][ \t]*(?P<text>\S.*)$")


def option_count(problem_choices: Sequence[str], options: Sequence[str]) -> int:
    """How many options a problem offers: its choices (even literal letters), else what the question lists."""
    if problem_choices:
        return len(problem_choices)
    return len(options) if options else DEFAULT_OPTION_COUNT


def is_letter_list(choices: Sequence[str]) -> bool:
    """MathVision lists some options as just ['A', 'B', 'C', 'D', 'E'] (the options are in the image)."""
    return bool(choices) and all(c.strip().upper() == LETTERS[i] for i, c in enumerate(choices))


def options_from_question(question: str) -> tuple[str, ...]:
    """Option texts written inline in a question ("Choices:\\nA:40°\\nB:60°"), in letter order A, B, ...

    Only a run of consecutive letters starting at A counts; anything else gives ().
    """
    found: dict[str, str] = {}
    for line in question.splitlines():
        m = _OPTION_LINE.match(line)
        if not m:
            continue
        letter = m.group("l")
        expected = LETTERS[len(found)] if len(found) < len(LETTERS) else None
        if letter == "A" and found:
            found = {}
            expected = "A"
        if letter == expected:
            found[letter] = m.group("text").strip()
    return tuple(found.values()) if len(found) >= 2 else ()


def parse_letters(s: str, n_options: int) -> frozenset[str] | None:
    """The option letter(s) an extracted answer names, or None when it names none.

    Accepted: "B", "(B)", "B.", "B:", "B)", "[B]", "option B", "B. 6 cm", "(B) 6 cm", "A, C", "A and C".
    Lowercase letters count only on their own ("b", "(b)", "a, c"). Letters beyond the option count are not
    letters.
    """
    s = clean(s)
    if not s or len(s) > 400:
        return None
    valid = LETTERS[: max(1, min(n_options, len(LETTERS)))]
    if len(s) <= 40 and (_MULTI.match(s) or _MULTI_LOWER.match(s)):  # first: "(A) and (C)" names two letters
        letters = frozenset(x.upper() for x in re.findall(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])", s))
        if letters and letters <= set(valid):
            return letters
    m = _SINGLE.match(s)
    if m:
        letter, rest = m.group("l"), m.group("rest")
        bare = rest is None and len(s) <= 12
        if letter.isupper() or bare:
            letter = letter.upper()
            if letter in valid and (rest is None or letter.isupper()):
                return frozenset(letter)
    m = _LEAD.match(s)
    if m and m.group("l") in valid:
        return frozenset(m.group("l"))
    return None


_RUN = re.compile(r"^[A-J]{2,10}$")


def concatenated_letters(s: str, n_options: int) -> frozenset[str] | None:
    """Several option letters written together ("AC", "BD", "DB"), as multi-select answers often are.

    Only distinct, valid capital letters; callers try option texts first (a segment "AB" may be an option).
    """
    s = clean(s).replace(" ", "")
    if not _RUN.match(s) or len(set(s)) != len(s):
        return None
    valid = LETTERS[: max(1, min(n_options, len(LETTERS)))]
    return frozenset(s) if set(s) <= set(valid) else None


def letters_for_text(s: str, options: Sequence[str]) -> frozenset[str] | None:
    """Letters whose option text is ``s`` (same text up to case, spacing and wrappers); None if none."""
    if not options:
        return None
    key, sq = text_key(s), squash(s)
    if not key and not sq:
        return None
    hits = frozenset(
        LETTERS[i] for i, opt in enumerate(options) if i < len(LETTERS) and (text_key(opt) == key or squash(opt) == sq)
    )
    return hits or None


def gold_letters(gold: str, options: Sequence[str], n_options: int, *, text_first: bool = False) -> frozenset[str] | None:
    """A gold as letters: a letter gold directly, an option-text gold (MathVista) via its option(s).

    ``text_first`` is for benchmarks whose golds are option texts, where an option may itself read "B".
    """
    if text_first:
        return letters_for_text(gold, options) or parse_letters(gold, n_options)
    return parse_letters(gold, n_options) or letters_for_text(gold, options) or concatenated_letters(gold, n_options)
