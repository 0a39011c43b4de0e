"""Compass bearings: "N 40° E", "S23.5°W", "north 40 degrees east", "40° east of north", and true bearings
"315°T", "040°".

MathVerse golds carry bearings (``S 23.5 ^\\circ W``, ``315^\\circT``). Two bearings are one answer when they
name the same direction: "N 45° W" is the true bearing 315°, but "N 40° E", "N 40° W" and "S 40° E" are three
different directions, which a comparison of the numbers alone would call equal.

Example:
    >>> true_bearing("N 40° E"), true_bearing("S 23.5° W"), true_bearing("315°T"), true_bearing("040°")
    (Fraction(40, 1), Fraction(407, 2), Fraction(315, 1), Fraction(40, 1))
    >>> true_bearing("E 40° N"), true_bearing("40 cm")
    (Fraction(50, 1), None)
"""

from __future__ import annotations

import re
from fractions import Fraction

from tts.grading.text import clean

_POINTS = {"n": 0, "e": 90, "s": 180, "w": 270}
_WORD = {"north": "n", "east": "e", "south": "s", "west": "w"}
_QUADRANT = re.compile(
    r"^(?P<a>[NSEW]|north|south|east|west)\s*(?P<deg>\d{1,3}(?:\.\d+)?)\s*(?:°|degrees?|deg)?\s*"
    r"(?P<b>[NSEW]|north|south|east|west)$",
    re.IGNORECASE,
)
# "62° east of north" is N 62° E: the angle turns from the second direction towards the first.
_FROM = re.compile(
    r"^(?P<deg>\d{1,3}(?:\.\d+)?)\s*(?:°|degrees?|deg)?\s+(?P<b>east|west|north|south)\s+of\s+"
    r"(?P<a>north|south|east|west)(?:\s+(?:true|direction))?$",
    re.IGNORECASE,
)
_THREE_DIGITS = re.compile(r"^0\d\d(?:\.\d+)?$")  # "040°": a bearing is written with three digits
_TRUE = re.compile(r"^(?P<deg>\d{1,3}(?:\.\d+)?)\s*°?\s*(?P<t>T|true)?$", re.IGNORECASE)


def _point(word: str) -> int:
    w = word.lower()
    return _POINTS[_WORD.get(w, w)]


def quadrant_bearing(s: str) -> Fraction | None:
    """The true bearing of a quadrant bearing ("N 40° E" → 40, "S 23.5° W" → 203.5), else None."""
    m = _QUADRANT.match(clean(s)) or _FROM.match(clean(s))
    if not m:
        return None
    a, b = _point(m.group("a")), _point(m.group("b"))
    if (a - b) % 180 == 0:  # "N 40° S" names no direction
        return None
    deg = Fraction(m.group("deg"))
    if deg > 90:
        return None
    turn = 1 if (b - a) % 360 == 90 else -1  # from a, turn towards b
    return (a + turn * deg) % 360


def true_bearing(s: str, *, plain: bool = True) -> Fraction | None:
    """A bearing as degrees clockwise from north: quadrant form, "315°T", or (``plain``) "040°"/"315°"."""
    q = quadrant_bearing(s)
    if q is not None:
        return q
    m = _TRUE.match(clean(s))
    if not m or (not plain and not m.group("t") and not _THREE_DIGITS.match(m.group("deg"))):
        return None
    deg = Fraction(m.group("deg"))
    return deg if deg < 360 else None


def same_bearing(pred: str, gold: str) -> bool | None:
    """Whether ``pred`` gives the direction of the bearing ``gold`` (N 45° W = 315°T; N 40° E ≠ N 40° W); None
    when ``gold`` is no bearing. A quadrant bearing answering a plain angle gold ("S 35° W" for "215°") is read
    as its true bearing: a direction written that way means nothing else."""
    if not is_bearing(gold):
        q = quadrant_bearing(pred)
        if q is not None and (g_deg := true_bearing(gold)) is not None:
            return q == g_deg
        return None
    g, p = true_bearing(gold), true_bearing(pred)
    if p is None:
        return False if quadrant_bearing(gold) is not None else None
    return p == g


def is_bearing(s: str) -> bool:
    """Whether ``s`` is written as a bearing (quadrant form, or with a T / a leading zero: "315°T", "040°")."""
    return true_bearing(s, plain=False) is not None
