"""Answers with harmless qualifiers: "Lyon, France" for "Lyon", "Yes, it is symmetric" for "Yes", "June 1889"
for 1889 — but never an answer that adds a second, different claim ("Lyon and Paris", "Lyon or Paris",
"No, it is symmetric about the origin", "5 years and 2 months", "blue, red").

The gold must appear as whole words in the prediction, and everything else must be words that neither
hedge, negate nor add another candidate: no "or"/"and"/"but"/"not"..., no second number, no more than a
short phrase around the gold. A yes/no gold must open the prediction ("Yes, ..."), since a later "yes" may be
quoted rather than answered. In "X, Y" the answer is X and Y its qualifier, so a gold found only as the
qualifier of another name ("Miami, Florida" for the gold "Florida") is not stated.

Example:
    >>> harmless_qualifier("Lyon, France", "Lyon"), harmless_qualifier("the city of Lyon", "Lyon")
    (True, True)
    >>> harmless_qualifier("Lyon and Paris", "Lyon"), harmless_qualifier("No, not Lyon", "Lyon")
    (False, False)
    >>> harmless_qualifier("blue, red", "blue")
    False
    >>> lone_number("June 1889"), lone_number("5 years and 2 months")
    ('1889', None)
"""

from __future__ import annotations

import re
from functools import lru_cache

from tts.grading.text import clean
from tts.grading.words import find_number_words

MAX_EXTRA_WORDS = 6
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['.][A-Za-z0-9]+)*")
_SECOND_CLAIM = frozenset(
    "or and but not no nor never neither either except instead vs versus than unless maybe perhaps possibly "
    "probably might could although though however also plus minus between".split()
)
_NEGATIONS = frozenset({"not", "no", "never"})
_YES_NO = frozenset({"yes", "no", "true", "false"})
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w.])")
_PROPER_NAME = re.compile(r"\b[A-Z][a-z]+")


def _words(s: str) -> list[str]:
    return [w.lower() for w in _TOKEN.findall(clean(s))]


_LIST_ITEM = re.compile(r"^[a-z]+$")


def _word_list(pred: str) -> bool:
    """A comma list of lower-case single words ("blue, red", "increasing, decreasing"): several answers of
    one kind, where a qualifier is a proper name or a phrase ("Lyon, France", "No, it is not odd")."""
    items = [x.strip() for x in clean(pred).split(",")]
    return len(items) >= 2 and all(_LIST_ITEM.match(x) for x in items)


# "Lyon, not Paris": an alternative named only to be rejected leaves the answer as it was.
_REJECTED = re.compile(r"(?i)^(?P<head>.+?)\s*[,;]?\s*(?:but\s+)?(?:not|rather\s+than|instead\s+of)\s+(?P<alt>[^,;]{1,40})$")


# The same, for any answer, with an explicit separator: "D, not C", "12, not 13", "D rather than C", "D and not
# C", "D but not C". Without one ("it is not odd") the "not" belongs to the answer.
_SET_ASIDE = re.compile(
    r"(?i)^(?P<head>[^,;]+?)\s*(?:[,;]\s*(?:but\s+)?not|\s(?:and|but)\s+not|\s+rather\s+than|\s+instead\s+of)"
    r"\s+(?P<alt>[^,;]{1,40}?)\s*[.!]?$"
)


@lru_cache(maxsize=65536)
def set_aside(pred: str) -> str | None:
    """The answer of "X, not Y" (an alternative named only to be rejected), or None when ``pred`` is not that.

    ``X`` must say something without a negation of its own, and ``Y`` must differ from it.
    """
    m = _SET_ASIDE.match(clean(pred))
    if m is None:
        return None
    head, alt = m.group("head").strip(), m.group("alt").strip()
    words = _words(head)
    if not words or any(w in _SECOND_CLAIM for w in words) or _words(alt) == words:
        return None
    return head


@lru_cache(maxsize=65536)
def harmless_qualifier(pred: str, gold: str) -> bool:
    """Whether ``pred`` states ``gold`` (a text answer) with only harmless extra words around it."""
    m = _REJECTED.match(clean(pred))
    if m and _words(gold) and _words(m.group("head"))[-len(_words(gold)):] == _words(gold) \
            and _words(gold) != _words(m.group("alt")):
        return _words(m.group("head")) == _words(gold) or harmless_qualifier(m.group("head"), gold)
    p, g = _words(pred), _words(gold)
    if not g or len(p) <= len(g) or len(p) - len(g) > MAX_EXTRA_WORDS:
        return False
    if _word_list(pred):
        return False  # "blue, red" lists two answers; "Lyon, France" qualifies one
    starts = [i for i in range(len(p) - len(g) + 1) if p[i : i + len(g)] == g]
    if len(starts) != 1:
        return False
    start = starts[0]
    head, comma, last = clean(pred).rpartition(",")
    if comma and start > 0 and _words(last) == g and _PROPER_NAME.search(head):
        return False  # "Miami, Florida" names Miami, and the gold is only the qualifier of another name
    rest = p[:start] + p[start + len(g) :]
    negative = g[0] in ("no", "false") and start == 0  # "No, it is not odd": the negation repeats the answer
    if any((w in _SECOND_CLAIM and not (negative and w in _NEGATIONS)) or w in _YES_NO for w in rest):
        return False
    if any(any(c.isdigit() for c in w) for w in rest) and not any(any(c.isdigit() for c in w) for w in g):
        return False
    if g[0] in _YES_NO and start != 0:
        return False
    return True


@lru_cache(maxsize=65536)
def lone_number(pred: str) -> str | None:
    """The only number of a short qualified answer ("June 1889" → "1889", "about 12" → "12", "piece three" →
    "three"), else None."""
    s = clean(pred)
    if any(c in s for c in "\\^_{}=+*/()[]|<>"):
        return None  # mathematics, not a qualified number
    numbers = _NUMBER.findall(s)
    rest_text = _NUMBER.sub(" ", s)
    if not numbers:  # "piece three", "about twelve"
        spelled = find_number_words(s)
        if len(spelled) == 1:
            a, b, _ = spelled[0]
            numbers, rest_text = [s[a:b]], s[:a] + " " + s[b:]
    if len(numbers) != 1:
        return None
    rest = _words(rest_text)
    if not rest or len(rest) > 3 or any(w in _SECOND_CLAIM for w in rest):
        return None
    if not all(w.isalpha() and len(w) >= 3 for w in rest):
        return None
    return numbers[0]
