"""Plain numbers without SymPy: parsing ("1,000", "-3.50", "12 cm", "50%", "\\frac{3}{4}") and comparing.

Most benchmark answers are plain numbers, so this is the grader's fast path. Values are exact
(:class:`fractions.Fraction`); ``decimals`` remembers how many digits followed the point, which the
"rounded decimal of an exact value" rule needs.

Example:
    >>> parse_number("1,000.50 m").value
    Fraction(2001, 2)
    >>> parse_number("\\\\frac{16}{7}").decimals is None
    True
    >>> numbers_match(parse_number("2.29"), parse_number("\\\\frac{16}{7}"))
    True
    >>> numbers_match(parse_number("2.9"), parse_number("2"))
    False
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from tts.grading.text import clean
from tts.grading.units import convert, unit_of
from tts.grading.words import MAX_WORDS, scale_value, words_value

#: Relative tolerance for values converted between units (months → years is a float factor).
_CONVERSION_TOL = Fraction(1, 10**9)

# What may follow a number: a unit ("12 cm", "0.8 kN", "24 cm²", "60 months"), a degree mark ("90°",
# "315°T"), or a counting noun ("7 people", "12 cubes"). Units are read by pint (:mod:`tts.grading.units`);
# nouns are dropped. Digits may appear only as a unit's power ("cm^2", "m2").
_TAIL = re.compile(
    r"^(?P<num>.*?[\d})])\.?\s*(?:\\(?:text|mathrm|mbox|rm)\s*\{\s*)?"
    r"(?P<tail>[A-Za-zμΩ°'][A-Za-zμΩ°'/\s.*²³-]*?(?:\s*\^\s*\{?\s*-?[23]\s*\}?|(?<=[a-z])[23])?)\s*\}?\s*$"
)
_DEGREE_TAIL = re.compile(r"^(?:°\s*[a-zA-Z]{0,2}|degrees?|deg|°\s*[CF])$", re.IGNORECASE)
_CELSIUS = re.compile(r"^°\s*[cC]$|^degrees? (?:celsius|centigrade)$", re.IGNORECASE)
_FAHRENHEIT = re.compile(r"^°\s*[fF]$|^degrees? fahrenheit$", re.IGNORECASE)
_NOUN = re.compile(r"^[A-Za-z][a-z']{2,}(?:\s+[a-z][a-z']{2,})?$")
_NOT_NOUNS = frozenset(
    "pi sqrt frac cdot times and or but not the then thus so because since is are was were of to in on at".split()
)
_NOUN_POWER = re.compile(r"\s*(?:\^\s*\{?\s*[23]\s*\}?|[²³])$")
#: Currencies are units too (pint has none): "1250 €" is not the 1250 dollars a question asks for. The yen and
#: yuan share their sign, so they share a code.
_CURRENCY_WORDS = {
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "us dollars": "USD", "bucks": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
    "¥": "YEN_YUAN", "元": "YEN_YUAN", "rmb": "YEN_YUAN", "yuan": "YEN_YUAN", "yen": "YEN_YUAN",
    "₹": "INR", "inr": "INR", "rupee": "INR", "rupees": "INR",
}
CURRENCIES = frozenset(_CURRENCY_WORDS.values())
#: The unit every degree-like mark reads as ("90°", "90 degrees", "315°T"): angles compare by value.
DEGREE = "degree"


@lru_cache(maxsize=16384)
def read_tail(tail: str) -> tuple[bool, str | None]:
    """What follows a number: ``(ok, unit)``; ok False when it is neither a unit, a degree mark nor a noun.

    ``unit`` is a canonical pint unit, :data:`DEGREE`, or None for a counting noun ("people").
    """
    t = tail.strip()
    currency = _CURRENCY_WORDS.get(t.lower())
    if currency is not None:
        return True, currency
    if _CELSIUS.match(t):
        return True, "degree_Celsius"
    if _FAHRENHEIT.match(t):
        return True, "degree_Fahrenheit"
    if _DEGREE_TAIL.match(t):
        return True, DEGREE
    unit = unit_of(t)
    if unit is not None:
        return True, unit
    first, _, rest = t.partition(" ")
    if rest and _NOUN.match(rest) and not any(w in _NOT_NOUNS for w in rest.lower().split()):
        unit = unit_of(first)  # "5 years old", "3 hours long"
        if unit is not None:
            return True, unit
    if _NOUN.match(t) and not any(w in _NOT_NOUNS for w in t.lower().split()):
        return True, None
    bare = _NOUN_POWER.sub("", t)  # "units²", "units^2": square units, a counting noun with a power
    if bare != t and _NOUN.match(bare) and not any(w in _NOT_NOUNS for w in bare.lower().split()):
        return True, None
    return False, None


_PERCENT = re.compile(r"^(?P<num>.*?)\s*(?:%|percent(?:age)?|per cent|pct)$", re.IGNORECASE)
_CURRENCY = re.compile(r"^(?P<sign>[+-]?)\s*(?P<cur>\$|€|£|¥|₹|usd|rmb)\s*(?P<num>.*)$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"^(?P<num>.*?)\s*(?P<cur>\$|€|£|¥|₹|元)$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$")
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(?:(?:,|\\,| |\{,\})\d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d{1,2}$|^[+-]?0,\d+$|^[+-]?\d+,\d{4,}$")
_SCI = re.compile(r"^(?P<m>[+-]?(?:\d+\.?\d*|\.\d+))\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*\{?\s*(?P<e>[+-]?\d{1,3})\s*\}?$")
_FRAC = re.compile(
    r"^(?P<sign>[+-]?)\s*\\frac\s*(?:\{\s*(?P<a>[+-]?\d+)\s*\}|(?P<a1>\d))\s*(?:\{\s*(?P<b>[+-]?\d+)\s*\}|(?P<b1>\d))$"
)
_SLASH = re.compile(r"^(?P<a>[+-]?\d+(?:\.\d+)?)\s*/\s*(?P<b>[+-]?\d+(?:\.\d+)?)$")
_MAX_LEN = 80


@dataclass(frozen=True)
class Number:
    """A parsed plain number: exact value, digits after the point (None for fractions), percent mark."""

    value: Fraction
    decimals: int | None = 0
    percent: bool = False
    unit: str | None = None  # a canonical pint unit, DEGREE, or None (no unit, or a counting noun)

    def values(self) -> tuple[Fraction, ...]:
        """The values this spelling may mean: ``50%`` is 50 (as written) or 0.5."""
        return (self.value, self.value / 100) if self.percent else (self.value,)

    @property
    def terminating(self) -> bool:
        """Whether the value has a finite decimal expansion (denominator only has factors 2 and 5)."""
        d = self.value.denominator
        for p in (2, 5):
            while d % p == 0:
                d //= p
        return d == 1


def _decimal_number(s: str) -> Number | None:
    if _DECIMAL.match(s):
        mantissa, _, _exp = s.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        try:
            return Number(Fraction(s), decimals)
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _core_number(s: str) -> Number | None:
    s = s.strip()
    if not s or len(s) > _MAX_LEN:
        return None
    if s[0] == "+":
        s = s[1:].lstrip()
    if s.startswith("-") and len(s) > 1 and s[1] == " ":
        s = "-" + s[1:].lstrip()
    n = _decimal_number(s)
    if n is not None:
        return n
    if _THOUSANDS.match(s):
        return _decimal_number(s.replace("\\,", "").replace("{,}", "").replace(",", "").replace(" ", ""))
    if _DECIMAL_COMMA.match(s):
        return _decimal_number(s.replace(",", "."))
    m = _SCI.match(s)
    if m:
        base = _decimal_number(m.group("m"))
        if base is None:
            return None
        exp = int(m.group("e"))
        return Number(base.value * Fraction(10) ** exp, max(0, (base.decimals or 0) - exp))
    m = _FRAC.match(s)
    if m:
        a = int(m.group("a") or m.group("a1"))
        b = int(m.group("b") or m.group("b1"))
        if b == 0:
            return None
        value = Fraction(a, b)
        return Number(-value if m.group("sign") == "-" else value, None)
    m = _SLASH.match(s)
    if m:
        num, den = Fraction(m.group("a")), Fraction(m.group("b"))
        return Number(num / den, None) if den else None
    if s.startswith("-"):
        inner = _core_number(s[1:])
        if inner is not None and inner.value >= 0 and not s[1:].lstrip().startswith("-"):
            return Number(-inner.value, inner.decimals, inner.percent)
    return None


@lru_cache(maxsize=65536)
def parse_number(s: str, *, cleaned: bool = False) -> Number | None:
    """The plain number ``s`` spells, or None when it is anything else (an expression, text, a list).

    Accepts signs, thousands separators, decimal commas ("1000,99"), scientific notation, integer fractions,
    percent marks, currency signs, and unit words or degree marks after the number.
    """
    if not cleaned:
        s = clean(s)
    if not s or len(s) > _MAX_LEN:
        return None
    if not any(c.isdigit() for c in s):
        return _words_number(s) if s[0].isalpha() and s.replace(" ", "").replace("-", "").isalpha() else None
    n = _core_number(s)
    if n is not None:
        return n
    scaled = scale_value(s)
    if scaled is not None:
        return Number(scaled, 0)
    percent = False
    unit: str | None = None
    m = _PERCENT.match(s)
    if m:
        s, percent = m.group("num").strip(), True
    else:
        m = _TAIL.match(s)
        if m and m.group("num").strip():
            tail = m.group("tail").strip()
            first, _, rest = tail.partition(" ")
            scaled = scale_value(m.group("num").strip() + " " + first) if rest else None
            if scaled is not None:  # "3 thousand units"
                ok, unit = read_tail(rest)
                return Number(scaled, 0, False, unit) if ok else None
            ok, unit = read_tail(tail)
            if not ok:
                return None
            s = m.group("num").strip()
            m = _PERCENT.match(s)
            if m:
                s, percent = m.group("num").strip(), True
    m = _CURRENCY.match(s) or _CURRENCY_AFTER.match(s)
    if m:
        s = m.group("sign") + m.group("num") if "sign" in m.groupdict() else m.group("num")
        unit = unit or _CURRENCY_WORDS[m.group("cur").lower()]
    s = s.strip().rstrip(".")
    n = _core_number(s)
    if n is None:
        scaled = scale_value(s)
        if scaled is None:
            return None
        n = Number(scaled, 0)
    return Number(n.value, n.decimals, percent, unit) if percent or unit else n


def _words_number(s: str) -> Number | None:
    """A number in words, possibly with a unit or noun after it ("forty grams", "thirty-five degrees")."""
    words = s.split()
    if len(words) > MAX_WORDS:
        return None
    for cut in range(len(words), 0, -1):
        value = words_value(" ".join(words[:cut]))
        if value is None:
            continue
        if cut == len(words):
            return Number(value, 0 if value.denominator == 1 else None)
        ok, unit = read_tail(" ".join(words[cut:]))
        return Number(value, 0 if value.denominator == 1 else None, False, unit) if ok else None
    return None


# A closed form ending in π ("4\\pi cm^2"), which ``_TAIL`` (a number ends in a digit or a bracket) misses. Its
# unit must be a word or a symbol of two letters or more: "2\\pi r" and "4\\pi h" name variables, not units.
_PI_TAIL = re.compile(
    r"^(?P<num>.*?(?:\\pi(?![A-Za-z])|π))\s*(?:\\(?:text|mathrm|mbox|rm)\s*\{\s*)?"
    r"(?P<tail>[A-Za-zμΩ][A-Za-zμΩ/\s.*²³-]*?(?:\s*\^\s*\{?\s*-?[23]\s*\}?|(?<=[a-z])[23])?)\s*\}?\s*$"
)


@lru_cache(maxsize=16384)
def split_unit(s: str) -> tuple[str, str | None] | None:
    """A non-plain answer with a unit or noun after it ("\\sqrt{20} cm" → ("\\sqrt{20}", "centimeter"),
    "4\\pi cm^2" → ("4\\pi", "centimeter ** 2")); None when nothing unit-like follows the math."""
    s = clean(s)
    m = _TAIL.match(s)
    if m is None:
        m = _PI_TAIL.match(s)
        if m is None or len(re.findall(r"[A-Za-zμΩ]", m.group("tail"))) < 2:
            return None
    if not m.group("num").strip():
        return None
    ok, unit = read_tail(m.group("tail"))
    return (m.group("num").strip(), unit) if ok else None


def in_unit(pred: Number, unit: str | None) -> Number | None:
    """``pred`` expressed in ``unit`` (0.8 kN in newtons: 800), unchanged when either side has no unit or the
    units are degrees; None when the units measure different quantities (cm and cm², N and J) or when one is a
    degree and the other a pint unit."""
    if pred.unit is None or unit is None or pred.unit == unit:
        return pred
    if DEGREE in (pred.unit, unit) or pred.unit in CURRENCIES or unit in CURRENCIES:
        return None
    value = convert(pred.value, pred.unit, unit)
    if value is None:
        return None
    return Number(value, None, pred.percent, unit)


def round_half_up(x: Fraction, digits: int) -> Fraction:
    """Round like a person does (2.675 → 2.68, −2.5 → −3: halves away from zero), exactly, unlike
    ``round(float)``; in fractions, so a value of any size rounds (``Decimal.quantize`` refuses 1E100 to
    one decimal under its 28-digit context)."""
    scale = Fraction(10) ** digits
    magnitude = math.floor(abs(x) * scale + Fraction(1, 2))
    return Fraction(magnitude if x >= 0 else -magnitude) / scale


def approx_match(pred: Number, gold: Number) -> bool:
    """A correctly rounded decimal of an exact non-terminating value counts (16/7 ≈ 2.29), both ways.

    The decimal must carry at least two digits after the point when it is the prediction, so "2" never
    passes for 16/7; a gold written as a decimal sets the precision itself.
    """
    for p in pred.values():
        for g in gold.values():
            if pred.decimals is not None and pred.decimals >= 2 and gold.decimals is None and not gold.terminating:
                if round_half_up(g, pred.decimals) == p:
                    return True
            if gold.decimals is not None and gold.decimals >= 1 and pred.decimals is None and not pred.terminating:
                if round_half_up(p, gold.decimals) == g:
                    return True
    return False


def numbers_match(
    pred: Number,
    gold: Number,
    *,
    precision: int | None = None,
    abs_tol: Fraction | None = None,
    integer: bool = False,
    unit: str | None = None,
) -> bool:
    """Whether ``pred`` is the number ``gold`` under one benchmark's numeric rule.

    - ``precision``: both rounded to that many decimals first (MathVista float answers);
    - ``abs_tol``: ``|pred - gold| <= abs_tol`` (DynaMath floats, 1e-3);
    - ``integer``: exact value equality, so 2.9 is not 2 (MathVista integer answers);
    - otherwise exact equality, plus correctly rounded decimals of non-terminating exact values.

    Units are part of the answer: the prediction's unit is converted to the gold's (or, when the gold has
    none, to ``unit``, the problem's unit), so 0.5 m = 50 cm but 5 months ≠ 5 years; units of different
    quantities never match (24 cm is not 24 cm²). An answer without a unit is read in the gold's unit.
    """
    target = gold.unit or unit
    converted = in_unit(pred, target)
    if converted is None:
        return False
    inexact = converted is not pred and converted.value != pred.value
    pred = converted
    for p in pred.values():
        for g in gold.values():
            if p == g or (inexact and abs(p - g) <= _CONVERSION_TOL * max(abs(g), Fraction(1))):
                return True
            if precision is not None and round_half_up(p, precision) == round_half_up(g, precision):
                return True
            if abs_tol is not None and abs(p - g) <= abs_tol:
                return True
    if integer or precision is not None or abs_tol is not None:
        return False
    return approx_match(pred, gold)


_OPEN, _CLOSE = "([{", ")]}"


def split_items(s: str) -> tuple[str, list[str]] | None:
    """Split "[1, 2]" / "(1,2)" / "1, 2" at top-level commas into ``(brackets, items)``; None if not a list.

    ``brackets`` is the enclosing pair ("[]", "()", "[)", ...) or "" so that intervals keep their meaning.
    """
    s = s.strip()
    brackets = ""
    if len(s) >= 4 and s.startswith("\\{") and s.endswith("\\}"):
        s, brackets = s[2:-2], "{}"
    elif len(s) >= 2 and s[0] in _OPEN and s[-1] in _CLOSE:
        s, brackets = s[1:-1], s[0] + s[-1]
    items: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in s:
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        if (c == "," or c == ";") and depth == 0:
            items.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    items.append("".join(cur).strip())
    if len(items) < 2 or any(not it for it in items):
        return None
    return brackets, items
