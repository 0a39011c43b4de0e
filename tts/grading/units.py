"""Units of measure through ``pint``: is a word after a number a unit, of which dimension, and conversions.

A careful grader reads the unit as part of the answer: "80 mm" is "8 cm", "0.8 kN" is "800 N", "60 months"
is "5 years", but "8 mm" is not "8 cm" and "24 cm" (a length) is not "24 cm²" (an area). ``pint`` knows the
units, their spellings, prefixes and dimensions; this module only decides which words may be units (a
word such as "points" or "units" is a pint unit but, after a number in an answer, a counting noun) and
keeps pint lazy: the registry is built on first use (about half a second), every lookup is cached, and
nothing here evaluates text (pint's parser builds its own expression tree).

Degrees, percent and currencies keep their own rules elsewhere (:mod:`tts.grading.numeric`): pint counts
the degree as dimensionless and has no currencies.

Example:
    >>> unit_of("cm²"), unit_of("square centimetres"), unit_of("people")
    ('centimeter ** 2', 'centimeter ** 2', None)
    >>> convert(Fraction(80), "millimeter", "centimeter")
    Fraction(8, 1)
    >>> convert(Fraction(24), "centimeter", "centimeter ** 2") is None
    True
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

MAX_UNIT_CHARS = 40

# English words that pint also reads as units (or as prefix + unit: "units" is micro-nit); after a number in
# an answer they are counting nouns or prose, never a unit. Single letters are units only when listed below.
_NOT_UNITS = frozenset(
    "are bar bars hand hands line lines point points unit units stone stones cup cups rod rods pole poles chain "
    "chains link links grain grains pi sq square cubic percent count counts turn turns cycle cycles a an at in "
    "it is of or and to as by per on no not ton tons dozen old each".split()
)
_SINGLE_LETTER_UNITS = frozenset("m g s h l L N J W V K A".split())
_SPELLING = (
    (re.compile(r"\bsq\b\.?\s*", re.I), "square "),
    (re.compile(r"²"), "**2"),
    (re.compile(r"³"), "**3"),
    (re.compile(r"\^\s*\{?\s*(-?\d)\s*\}?"), r"**\1"),
    (re.compile(r"(?<=[a-zA-Zμ])([23])\b"), r"**\1"),
    (re.compile(r"\bsquare\s+(\w+)", re.I), r"\1**2"),
    (re.compile(r"\bcubic\s+(\w+)", re.I), r"\1**3"),
    (re.compile(r"(\w+)\s+squared\b", re.I), r"\1**2"),
    (re.compile(r"(\w+)\s+cubed\b", re.I), r"\1**3"),
    (re.compile(r"\bper\b", re.I), "/"),
)
#: SI prefixes no benchmark answer uses, through which pint reads letter pairs as units ("rs", "ym", "zs").
_EXOTIC_PREFIX = re.compile(r"\b(?:ronto|ronna|quecto|quetta|yocto|yotta|zepto|zetta)")
_UNIT_CHARS = re.compile(r"^[A-Za-zμΩ°/*\d\s.^²³{}()\-]+$")
_WORDS = re.compile(r"[A-Za-zμΩ]+")


@lru_cache(maxsize=1)
def registry() -> Any:
    """The shared pint registry (built on first use)."""
    import pint

    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def _spelling(text: str) -> str:
    s = text.strip().replace("μ", "u").replace("Ω", "ohm")
    for pattern, repl in _SPELLING:
        s = pattern.sub(repl, s)
    return s.strip()


_TITLE_WORD = re.compile(r"\b[A-Z][a-z]{2,}\b")


@lru_cache(maxsize=4096)
def unit_of(text: str) -> str | None:
    """The canonical pint name of the unit ``text`` spells ("cm^2" → "centimeter ** 2"), or None if none.

    A unit word capitalised as in a title or a sentence start ("Newtons", "Square Meters") is read as its
    lowercase spelling when it is no unit as written; symbols keep their case ("Mm" is not "mm").
    """
    unit = _unit_of(text)
    if unit is None and _TITLE_WORD.search(text):
        unit = _unit_of(_TITLE_WORD.sub(lambda m: m.group(0).lower(), text))
    return unit


def _unit_of(text: str) -> str | None:
    text = text.strip().rstrip(".")
    if not text or len(text) > MAX_UNIT_CHARS or not _UNIT_CHARS.match(text):
        return None
    words = _WORDS.findall(text)
    if not words or any(w.lower() in _NOT_UNITS for w in words
                        if w.lower() not in ("square", "cubic", "per", "sq") and w not in _SINGLE_LETTER_UNITS):
        return None
    if len(text) == 1 and text not in _SINGLE_LETTER_UNITS:
        return None
    if any(len(w) == 1 and w not in _SINGLE_LETTER_UNITS for w in words):
        return None
    try:
        units = registry().parse_units(_spelling(text))
    except Exception:  # noqa: BLE001 - pint raises many kinds of errors on non-units; all mean "not a unit"
        return None
    name = str(units)
    if _EXOTIC_PREFIX.search(name):
        return None  # "rs" is a rontosecond to pint, a product of two variables in an answer
    return name if name and name != "dimensionless" else None


@lru_cache(maxsize=4096)
def dimension(unit: str) -> str:
    """The dimensionality of a canonical unit, as text ("[length] ** 2")."""
    return str(registry().parse_units(unit).dimensionality)


@lru_cache(maxsize=16384)
def _factor(from_unit: str, to_unit: str) -> float | None:
    try:
        if dimension(from_unit) != dimension(to_unit):
            return None
        return float(registry().Quantity(1.0, from_unit).to(to_unit).magnitude)
    except Exception:  # noqa: BLE001 - offset units or odd combinations: no conversion
        return None


def convert(value: Fraction, from_unit: str, to_unit: str) -> Fraction | None:
    """``value`` in ``from_unit`` expressed in ``to_unit``; None when the dimensions differ.

    Exact for decimal factors (mm → cm); factors such as months → years are as exact as a float.
    """
    if from_unit == to_unit:
        return value
    factor = _factor(from_unit, to_unit)
    if factor is None:
        return None
    return value * Fraction(repr(factor))


def same_dimension(a: str, b: str) -> bool:
    """Whether two canonical units measure the same kind of quantity (mm and km: yes; cm and cm²: no)."""
    try:
        return a == b or dimension(a) == dimension(b)
    except Exception:  # noqa: BLE001
        return False
