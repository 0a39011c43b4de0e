"""Numbers written in words ("seven", "twenty-one", "three thousand", "three quarters") and scale words
after digits ("2.3 million", "3 thousand", "2.3M", "1.2 bn").

Hand-written rather than a library: the grammar needed is small (English cardinals up to the trillions,
simple fractions, scale suffixes), it must be exact (``Fraction``) and linear in the input, and the common
packages (``word2number``, ``text2num``) either float their results or raise on anything else.

Example:
    >>> words_value("twenty-one"), words_value("three thousand and five"), words_value("three quarters")
    (Fraction(21, 1), Fraction(3005, 1), Fraction(3, 4))
    >>> scale_value("2.3 million"), scale_value("2.3M"), words_value("seventh heaven") is None
    (Fraction(2300000, 1), Fraction(2300000, 1), True)
"""

from __future__ import annotations

import re
from fractions import Fraction

_SMALL = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen".split()
    )
}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
    "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8,
    "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10, "hundredth": 100, "hundredths": 100,
}
_EXTRA = {"a": 1, "an": 1, "dozen": 12}
MAX_WORDS = 12
_SPLIT = re.compile(r"[\s\-]+")
_SCALE_SUFFIX = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?:\s*(?P<word>thousand|million|billion|trillion|mn|bn)\b"
    r"|(?P<short>[MBk])(?![A-Za-z]))$",
    re.IGNORECASE,
)
_SHORT = {"m": 10**6, "b": 10**9, "k": 10**3}
_WORD_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12, "mn": 10**6, "bn": 10**9}


def _integer(tokens: list[str]) -> int | None:
    """An English cardinal from its words (hyphens already split), or None."""
    total, current, seen = 0, 0, False
    for tok in tokens:
        if tok == "and" and seen:
            continue
        if tok in _SMALL:
            current += _SMALL[tok]
        elif tok in _TENS:
            current += _TENS[tok]
        elif tok == "hundred":
            current = max(current, 1) * 100
        elif tok in _SCALES:
            total += max(current, 1) * _SCALES[tok]
            current = 0
        elif tok == "dozen":
            current = max(current, 1) * 12
        elif tok in ("a", "an") and not seen:
            current = 1
        else:
            return None
        seen = True
    return total + current if seen else None


def words_value(text: str) -> Fraction | None:
    """The number that ``text`` spells in English words, or None (also for any word that is not a number).

    "seven", "twenty-one", "one hundred and five", "three thousand", "three quarters", "a half", "a dozen".
    A lone "a"/"an" is not a number.
    """
    tokens = [t for t in _SPLIT.split(text.strip().lower().rstrip(".")) if t]
    if not tokens or len(tokens) > MAX_WORDS or tokens in (["a"], ["an"]):
        return None
    if tokens[0] in ("minus", "negative") and len(tokens) > 1:
        inner = words_value(" ".join(tokens[1:]))
        return -inner if inner is not None else None
    if len(tokens) == 1 and tokens[0] in _EXTRA and tokens[0] not in ("a", "an"):
        return Fraction(_EXTRA[tokens[0]])
    if tokens[-1] in _DENOMINATORS and len(tokens) >= 2:
        numerator = _integer(tokens[:-1])
        if numerator is None:
            return None
        if tokens[-1] in ("half", "halves") and numerator == 0:
            return None
        return Fraction(numerator, _DENOMINATORS[tokens[-1]])
    value = _integer(tokens)
    return Fraction(value) if value is not None else None


def scale_value(text: str) -> Fraction | None:
    """Digits followed by a scale word: "2.3 million", "3 thousand", "2,300 thousand", "2.3M", "1.2bn", "5k"."""
    m = _SCALE_SUFFIX.match(text.strip())
    if not m:
        return None
    number = Fraction(m.group("num").replace(",", ""))
    if m.group("word"):
        return number * _WORD_SCALE[m.group("word").lower()]
    short = m.group("short")
    if short == "K" or (short in ("m", "b")):  # "5 K" is kelvin, "5 m" metres, "5 b" nothing
        return None
    return number * _SHORT[short.lower()]
