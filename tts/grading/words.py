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
    >>> words_value("one and a half"), [v for _, _, v in find_number_words("the blue one has seven sides")]
    (Fraction(3, 2), [Fraction(7, 1)])
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
    while tokens and tokens[-1] == "and":
        tokens.pop()  # "seven and" is seven; "a and" is nothing
    if not tokens or len(tokens) > MAX_WORDS or tokens in (["a"], ["an"]):
        return None
    if tokens[0] in ("minus", "negative") and len(tokens) > 1:
        inner = words_value(" ".join(tokens[1:]))
        return -inner if inner is not None else None
    if len(tokens) == 1 and tokens[0] in _EXTRA and tokens[0] not in ("a", "an"):
        return Fraction(_EXTRA[tokens[0]])
    if tokens[-1] in _DENOMINATORS and len(tokens) >= 4 and "and" in tokens[1:-2]:
        mixed = _mixed(tokens)  # "one and a half", "two and three quarters"
        if mixed is not None:
            return mixed
    if tokens[-1] in _DENOMINATORS and len(tokens) >= 2:
        numerator = _integer(tokens[:-1])
        if numerator is None:
            return None
        if tokens[-1] in ("half", "halves") and numerator == 0:
            return None
        return Fraction(numerator, _DENOMINATORS[tokens[-1]])
    value = _integer(tokens)
    return Fraction(value) if value is not None else None


def _mixed(tokens: list[str]) -> Fraction | None:
    """A whole number and a fraction joined by "and": "one and a half" → 3/2."""
    cut = len(tokens) - 1 - tokens[::-1].index("and")
    whole, part = _integer(tokens[:cut]), words_value(" ".join(tokens[cut + 1 :]))
    if whole is None or part is None or not 0 < part < 1:
        return None
    return whole + part


#: Words a number written in words is made of (hyphens split: "twenty-one" is two tokens).
_NUMBER_TOKENS = frozenset(_SMALL) | frozenset(_TENS) | frozenset(_SCALES) | {"hundred", "dozen"}
_RUN_TOKENS = _NUMBER_TOKENS | frozenset(_DENOMINATORS) | {"and", "a", "an"}
_WORD_TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
# "one" as a pronoun ("the blue one", "one of the bars", "one more than 5") is not a number.
_PRONOUN_BEFORE = frozenset("the this that each every any which no a an another".split())
_PRONOUN_AFTER = frozenset("of another more less fewer by side hand way".split())
_COPULAS = frozenset("is are was were be equals exactly only just".split())


def find_number_words(text: str) -> list[tuple[int, int, Fraction]]:
    """Every number written in words in ``text``: ``(start, end, value)``, in order ("seven years" → 7).

    A run is the longest stretch of number words ("three thousand and five", "one and a half", "a dozen");
    a lone "a"/"an" or a lone ordinal ("the third bar") is no number, nor is the pronoun "one" ("the blue
    one", "one of them").
    """
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD_TOKEN.finditer(text[:4000])]
    found: list[tuple[int, int, Fraction]] = []
    i = 0
    while i < len(words):
        parts = words[i][2].split("-")
        if not any(p in _NUMBER_TOKENS for p in parts) and words[i][2] not in ("a", "an"):
            i += 1
            continue
        j = i
        while j < len(words) and all(p in _RUN_TOKENS for p in words[j][2].split("-")) and j - i < MAX_WORDS:
            if j > i and text[words[j - 1][1] : words[j][0]].strip(" -"):
                break  # punctuation between two words ends the run
            j += 1
        # Shrink from the right until the run spells a number ("seven and" → "seven").
        value, end = None, j
        while end > i:
            value = words_value(" ".join(w for _, _, w in words[i:end]))
            if value is not None:
                break
            end -= 1
        if value is None:
            i += 1
            continue
        run = [w for _, _, w in words[i:end]]
        parts = [p for w in run for p in w.split("-")]
        # A run needs a number word of its own ("A and D" are letters), and a scale word right after digits
        # belongs to them ("$1.25 thousand"), not to a new number.
        gap = text[words[i - 1][1] if i > 0 else 0 : words[i][0]]
        after_digits = gap.rstrip()[-1:].isdigit()
        own = (any(p in _SMALL or p in _TENS or p in ("hundred", "dozen") for p in parts)
               or (parts[0] in ("a", "an") and parts[-1] in _DENOMINATORS)
               or (not after_digits and any(p in _SCALES for p in parts)))
        if not own or (after_digits and parts[0] in _SCALES):
            i = end
            continue
        before = words[i - 1][2] if i > 0 else ""
        before2 = words[i - 2][2] if i > 1 else ""
        after = words[end][2] if end < len(words) else ""
        final_pronoun = end == len(words) and before and before not in _COPULAS  # "the blue one." / "is one."
        determiner = before in _PRONOUN_BEFORE or (before2 in _PRONOUN_BEFORE and before not in _COPULAS)
        if run == ["one"] and (determiner or after in _PRONOUN_AFTER or final_pronoun):
            i = end
            continue
        found.append((words[i][0], words[end - 1][1], value))
        i = end
    return found


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
