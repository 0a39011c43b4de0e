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

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache

from tts.grading.text import clean

#: Words and symbols dropped after a number ("12 cm", "5 years", "90°"). A unit never changes a verdict:
#: the benchmarks state units in the question, and answers are compared by value.
_UNIT_WORDS = (
    "km|m|cm|mm|nm|um|μm|mi|miles?|ft|feet|foot|in|inch(?:es)?|yd|yards?|meters?|metres?|centimeters?|centimetres?|"
    "millimeters?|millimetres?|kilometers?|kilometres?|kg|g|mg|grams?|kilograms?|lbs?|pounds?|oz|ounces?|tons?|"
    "s|sec|secs|seconds?|min|mins|minutes?|h|hr|hrs|hours?|days?|weeks?|months?|years?|yrs?|"
    "l|ml|liters?|litres?|gallons?|"
    "degrees?|deg|rad|radians?|°[a-z]{0,2}|units?|sq\\.? ?units?|square (?:units?|meters?|metres?|feet|cm|m|inch(?:es)?)|"
    "cubic (?:units?|meters?|metres?|feet|cm|m)|"
    "dollars?|cents?|usd|eur|yuan|rmb|kn|kj|kw|ma|ohms?|ω|pa|kpa|hz|khz|mph|kph|km/h|m/s|m/s\\^2|"
    "people|persons?|students?|times|points?|items?|pieces?|°c|°f|mol|cal|kcal"
)
_UNIT_SUFFIX = re.compile(
    r"^(?P<num>.*?[\d})]\.?)\s*(?:\\?(?:text|mathrm|mbox)\s*\{\s*)?(?P<unit>(?:" + _UNIT_WORDS + r")(?:\s*\^\s*\{?[23]\}?|[23])?"
    r")\s*\}?\s*$",
    re.IGNORECASE,
)
_BASE_UNITS: dict[str, tuple[str, Fraction]] = {}
for _names, _dim, _factor in (
    ("mm millimeter millimeters millimetre millimetres", "length", Fraction(1, 1000)),
    ("cm centimeter centimeters centimetre centimetres", "length", Fraction(1, 100)),
    ("m meter meters metre metres", "length", Fraction(1)),
    ("km kilometer kilometers kilometre kilometres", "length", Fraction(1000)),
    ("mg", "mass", Fraction(1, 1000)),
    ("g gram grams", "mass", Fraction(1)),
    ("kg kilogram kilograms", "mass", Fraction(1000)),
    ("s sec secs second seconds", "time", Fraction(1)),
    ("min mins minute minutes", "time", Fraction(60)),
    ("h hr hrs hour hours", "time", Fraction(3600)),
    ("ml", "volume", Fraction(1, 1000)),
    ("l liter liters litre litres", "volume", Fraction(1)),
):
    for _name in _names.split():
        _BASE_UNITS[_name] = (_dim, _factor)


def _unit_of(word: str) -> tuple[str, Fraction, int] | None:
    """``"cm^2"`` → ("length", 1/100, 2); None for units we do not convert (years, degrees, dollars...)."""
    m = re.match(r"^(?:(square|cubic)\s+)?([a-zμ]+)\s*(?:\^\s*\{?([23])\}?|([23]))?$", word.strip().lower())
    if not m or m.group(2) not in _BASE_UNITS:
        return None
    dim, factor = _BASE_UNITS[m.group(2)]
    power = {"square": 2, "cubic": 3}.get(m.group(1) or "", int(m.group(3) or m.group(4) or 1))
    return dim, factor, power


_PERCENT = re.compile(r"^(?P<num>.*?)\s*(?:%|percent(?:age)?|per cent|pct)$", re.IGNORECASE)
_CURRENCY = re.compile(r"^(?P<sign>[+-]?)\s*(?:\$|€|£|¥|₹|usd|rmb)\s*(?P<num>.*)$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"^(?P<num>.*?)\s*(?:\$|€|£|¥|₹|元)$")
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
    unit: tuple[str, Fraction, int] | None = None  # (dimension, factor to the base unit, power) if known

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
    if not s or len(s) > _MAX_LEN or not any(c.isdigit() for c in s):
        return None
    n = _core_number(s)
    if n is not None:
        return n
    percent = False
    unit = None
    m = _PERCENT.match(s)
    if m:
        s, percent = m.group("num").strip(), True
    for _ in range(2):
        m = _UNIT_SUFFIX.match(s)
        if m and m.group("num").strip():
            s = m.group("num").strip()
            unit = unit or _unit_of(m.group("unit"))
        else:
            break
        if not percent:
            m = _PERCENT.match(s)
            if m:
                s, percent = m.group("num").strip(), True
    m = _CURRENCY.match(s) or _CURRENCY_AFTER.match(s)
    if m:
        s = m.group("sign") + m.group("num") if "sign" in m.groupdict() else m.group("num")
    s = s.strip().rstrip(".")
    n = _core_number(s)
    if n is None:
        return None
    return Number(n.value, n.decimals, percent, unit) if percent or unit else n


def _in_gold_unit(pred: Number, gold: Number) -> Number:
    """``pred`` converted to ``gold``'s unit when both carry convertible units of one dimension (50 cm → 0.5 m)."""
    if pred.unit is None or gold.unit is None or pred.unit == gold.unit:
        return pred
    (pdim, pf, pp), (gdim, gf, gp) = pred.unit, gold.unit
    if pdim != gdim or pp != gp:
        return pred
    return Number(pred.value * (pf / gf) ** pp, None, pred.percent, gold.unit)


def round_half_up(x: Fraction, digits: int) -> Fraction:
    """Round like a person does (2.675 → 2.68), exactly, unlike ``round(float)``."""
    q = Decimal(1).scaleb(-digits)
    d = (Decimal(x.numerator) / Decimal(x.denominator)) if x.denominator != 1 else Decimal(x.numerator)
    return Fraction(d.quantize(q, rounding=ROUND_HALF_UP))


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
) -> bool:
    """Whether ``pred`` is the number ``gold`` under one benchmark's numeric rule.

    - ``precision``: both rounded to that many decimals first (MathVista float answers);
    - ``abs_tol``: ``|pred - gold| <= abs_tol`` (DynaMath floats, 1e-3);
    - ``integer``: exact value equality, so 2.9 is not 2 (MathVista integer answers);
    - otherwise exact equality, plus correctly rounded decimals of non-terminating exact values.

    Explicit units of one dimension on both sides are converted first (0.5 m = 50 cm).
    """
    pred = _in_gold_unit(pred, gold)
    for p in pred.values():
        for g in gold.values():
            if p == g:
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
