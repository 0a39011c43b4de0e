"""Is a predicted answer the gold answer? Cheap checks first, SymPy only when they cannot decide.

Order: same string after normalisation → option letters/texts (multiple choice) → plain numbers (exact, or
the benchmark's rounding/tolerance) → element-wise lists → free text → math-verify, gold first, in a
bounded worker. Verdicts are cached per ``(pred, gold, rule)``. Nothing here raises.

Example:
    >>> judge("0.5", "\\\\frac{1}{2}").correct
    True
    >>> judge("C, A", "A, C", Rule(multi_choice=True, n_options=5)).correct
    True
    >>> judge("2.9", "2", Rule(answer_type="integer", integer=True))
    Verdict(correct=False, how='number')
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from tts.grading import numeric, symbolic, text
from tts.grading.bearings import same_bearing
from tts.grading.choice import (
    LETTERS,
    concatenated_letters,
    gold_letters,
    letters_for_text,
    names_another_option,
    parse_letters,
)
from tts.grading.numeric import (
    CURRENCIES,
    DEGREE,
    Number,
    numbers_match,
    parse_number,
    round_half_up,
    split_items,
    split_unit,
)
from tts.grading.qualifiers import harmless_qualifier, lone_number, set_aside
from tts.grading.rules import GENERIC, Rule
from tts.grading.text import and_list, assigned_value, clean, inequality_chain, squash, text_key
from tts.grading.units import convert, same_dimension

MAX_CHARS = 2000
_RELATION = re.compile(r"[<>≤≥]|\\(?:le|ge|leq|geq|lt|gt|neq|ne)(?![A-Za-z])")
_PROSE_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_LATEX_WORDS = frozenset(
    "frac dfrac tfrac sqrt pi infty cdot times sin cos tan cot sec csc log ln exp lim sum int le ge leq geq neq "
    "approx pm mp circ deg text left right begin end pmatrix bmatrix matrix array cup cap emptyset mathbb mathrm "
    "arcsin arccos arctan sinh cosh tanh alpha beta gamma delta theta lambda sigma omega phi rho mod pmod binom "
    "and or".split()
)


@dataclass(frozen=True)
class Verdict:
    """A comparison's result and which check decided it (``letter``, ``number``, ``symbolic``, ...)."""

    correct: bool
    how: str


def _is_prose(s: str) -> bool:
    """Natural-language text (several real words), which math-verify would misread as products of symbols."""
    words = [w for w in _PROSE_WORD.findall(s) if w.lower() not in _LATEX_WORDS]
    return len(words) >= 3


# Function names written without a backslash ("2x sin x"), which math-verify reads as products of letters.
_BARE_FUNCTION = re.compile(r"(?<![\\A-Za-z])(arcsin|arccos|arctan|sinh|cosh|tanh|sin|cos|tan|cot|sec|csc|ln|log|exp)"
                            r"(?![A-Za-z])")


def _latex_functions(s: str) -> str:
    return _BARE_FUNCTION.sub(r"\\\1", s) if any(c.isalpha() for c in s) else s


def _symbolic(pred: str, gold: str, rule: Rule) -> Verdict:
    if _is_prose(pred) or _is_prose(gold):
        return Verdict(False, "text")
    pred, gold = _latex_functions(clean(pred)), _latex_functions(clean(gold))
    out = symbolic.verify(gold, pred, 6 if rule.precision is None else rule.precision)
    if out.status == "ok":
        return Verdict(bool(out.value), "symbolic")
    return Verdict(False, out.status)


_FUNCTIONS = re.compile(r"\\(?:frac|dfrac|tfrac|sqrt|pi|cdot|times|left|right|ln|log|sin|cos|tan|exp|e)(?![A-Za-z])")
_CLOSED_FORM = re.compile(r"^[\d\s.+\-*/^(){}\[\]e]*$")


def closed_form(s: str) -> bool:
    """Whether ``s`` is a closed-form number ("2\\pi", "\\frac{\\sqrt{3}}{2}", "e^2"): digits, operators, brackets
    and a few functions only. Anything else (a list, words, stray letters) is never read as a number."""
    return bool(_CLOSED_FORM.match(_FUNCTIONS.sub(" ", s)))


def _value_of(pred: str) -> Number | None:
    """A non-plain numeric answer ("2\\pi", "\\sqrt{2}/2") evaluated by SymPy, as an inexact Number."""
    if not closed_form(pred):
        return None
    out = symbolic.numeric_value(pred)
    if out.status != "ok" or out.value is None:
        return None
    try:
        value = Fraction(Decimal(str(out.value)))
    except (InvalidOperation, ValueError):
        return None
    return Number(value, 12)


def _rounded_closed_form(pred: str, gold: str) -> bool:
    """A decimal with at least two places that is the gold closed form rounded (12.57 for 4π)."""
    p = parse_number(pred)
    if p is None or p.decimals is None or p.decimals < 2 or p.percent or _is_prose(gold):
        return False
    g = _value_of(clean(gold))
    return g is not None and round_half_up(g.value, p.decimals) == p.value


_PI = Fraction("3.14159265358979323846264338327950288")


def _radians_in_degrees(pred: str) -> Fraction | None:
    """A closed form in π written without a degree mark ("\\frac{\\pi}{3}"), read as radians, in degrees."""
    c = clean(pred)
    if "\\pi" not in c or "°" in c:
        return None
    v = _value_of(c)
    return None if v is None else v.value * 180 / _PI


def _same_angle(pred: str, gold: Number) -> bool | None:
    """For a gold in degrees: whether a radian closed-form prediction is that angle (None: not one)."""
    degrees = _radians_in_degrees(pred)
    if degrees is None:
        return None
    return any(abs(degrees - g) <= Fraction(1, 10**6) * max(Fraction(1), abs(g)) for g in gold.values())


def _match(p: Number, g: Number, rule: Rule) -> bool:
    if numbers_match(p, g, precision=rule.precision, abs_tol=rule.abs_tol, integer=rule.integer, unit=rule.unit):
        return True
    # "100 mm" for a gold 10 in a question given in cm: read in the question's unit (a rescue, never a refusal)
    context = rule.context_unit
    return (context is not None and g.unit is None and p.unit is not None and p.unit != context
            and p.unit not in CURRENCIES and p.unit != DEGREE and same_dimension(p.unit, context)
            and numbers_match(p, g, precision=rule.precision, abs_tol=rule.abs_tol, integer=rule.integer, unit=context))


_RATIO = re.compile(r"^\s*(?P<a>\d+(?:\.\d+)?)\s*:\s*(?P<b>\d+(?:\.\d+)?)\s*$")


def ratio_value(s: str) -> Number | None:
    """A ratio "a:b" as the number a/b ("1 : 2" → 1/2, "1.85:1" → 1.85); None for anything else."""
    m = _RATIO.match(clean(s))
    if not m or not float(m.group("b")):
        return None
    return Number(Fraction(m.group("a")) / Fraction(m.group("b")), None)


def _judge_ratio(pred: str, gold: str, rule: Rule) -> Verdict | None:
    """A ratio against a plain number, either way ("24:7" = "24/7", "1.85:1" = "1.85"); two ratios, or a
    ratio and a time ("8:45"), are left to the other checks."""
    p_ratio, g_ratio = ratio_value(pred), ratio_value(gold)
    if (p_ratio is None) == (g_ratio is None):
        return None
    p = p_ratio or parse_number(pred)
    g = g_ratio or parse_number(gold)
    if p is None or g is None:
        return None
    return Verdict(_match(p, g, rule), "ratio")


_NONE_WORDS = frozenset({"none", "none of them", "nothing"})


def _judge_number(pred: str, gold: str, rule: Rule) -> Verdict | None:
    if rule.answer_type in ("integer", "float") and text_key(pred) in _NONE_WORDS:
        pred = "0"  # "None" answers "how many ...?" with zero
    rhs = assigned_value(pred) if "=" in pred else None
    if rhs is not None and parse_number(gold) is not None:
        return _judge_number(rhs, gold, rule)  # "x = 3", "AB = 4.4 m", "f(2) = 1.5" give the value asked for
    v = _judge_ratio(pred, gold, rule)
    if v is not None:
        return v
    g = parse_number(gold)
    if g is None:
        if rule.precision is None and rule.abs_tol is None and _rounded_closed_form(pred, gold):
            return Verdict(True, "rounded")
        return None
    p = parse_number(pred)
    if p is not None:
        return Verdict(_match(p, g, rule), "number")
    if DEGREE in (g.unit, rule.unit):
        angle = _same_angle(pred, g)
        if angle is not None:
            return Verdict(angle, "angle")
    lone = lone_number(pred)
    lone_value = parse_number(lone) if lone is not None else None
    if lone_value is not None:
        return Verdict(_match(lone_value, g, rule), "number")
    if rule.answer_type not in ("integer", "float") or _is_prose(pred):
        return None
    value = _value_of(clean(pred))
    if value is None:
        return Verdict(False, "number")
    if rule.precision is None and rule.abs_tol is None and g.decimals is not None and g.decimals >= 2 \
            and round_half_up(value.value, g.decimals) == g.value:
        return Verdict(True, "rounded")  # the exact value (6√3) of a gold written rounded (10.39)
    tol = rule.abs_tol if rule.abs_tol is not None else Fraction(1, 10**9) * max(Fraction(1), abs(g.value))
    if rule.precision is not None:
        return Verdict(numbers_match(value, g, precision=rule.precision), "number")
    return Verdict(any(abs(value.value - gv) <= tol for gv in g.values()), "number")


def _judge_list(pred: str, gold: str, rule: Rule) -> Verdict | None:
    """Element-wise numbers in order ("[2014, 2016]" = "2014, 2016"); intervals need the same brackets."""
    g_split = split_items(clean(gold))
    p_split = split_items(clean(pred))
    if g_split is None or p_split is None:
        return None
    (g_br, g_items), (p_br, p_items) = g_split, p_split
    if g_br and p_br and g_br != p_br:
        return None  # (0, 9) is not [0, 9): let math-verify compare intervals, tuples and sets
    g_parsed = [parse_number(x) for x in g_items]
    p_parsed = [parse_number(x) for x in p_items]
    g_nums = [n for n in g_parsed if n is not None]
    p_nums = [n for n in p_parsed if n is not None]
    if len(g_nums) < len(g_parsed) or len(p_nums) < len(p_parsed):
        return None
    same = len(g_nums) == len(p_nums) and all(
        numbers_match(p, g, precision=rule.precision, abs_tol=rule.abs_tol) for p, g in zip(p_nums, g_nums, strict=True)
    )
    if same or rule.answer_type == "list":
        return Verdict(same, "list")
    return None  # maybe a set or an unordered answer: let math-verify decide


def _letters_by_value(pred: str, rule: Rule) -> frozenset[str] | None:
    """Letters of the options whose value equals ``pred`` ("6" → the "6 cm" option), if exactly one."""
    p = parse_number(pred)
    if p is not None:
        hits = [LETTERS[i] for i, opt in enumerate(rule.options[: len(LETTERS)])
                if (o := parse_number(opt)) is not None and numbers_match(p, o)]
        return frozenset(hits) if len(hits) == 1 else None
    hits = [LETTERS[i] for i, opt in enumerate(rule.options[: len(LETTERS)])
            if harmless_qualifier(pred, opt)]
    if len(hits) == 1:
        return frozenset(hits)
    if "\\pi" in pred:
        angles = [LETTERS[i] for i, opt in enumerate(rule.options[: len(LETTERS)])
                  if (o := parse_number(opt)) is not None and o.unit == DEGREE and _same_angle(pred, o)]
        if len(angles) == 1:
            return frozenset(angles)
    if _is_prose(pred) or len(rule.options) > 10:
        return None
    hits = [LETTERS[i] for i, opt in enumerate(rule.options) if _symbolic(pred, opt, rule).correct]
    return frozenset(hits) if len(hits) == 1 else None


def _judge_choice(pred: str, gold: str, rule: Rule) -> Verdict | None:
    g = gold_letters(gold, rule.options, rule.n_options, text_first=rule.gold_is_text)
    if g is None:
        return None
    p = (parse_letters(pred, rule.n_options) or letters_for_text(pred, rule.options)
         or concatenated_letters(pred, rule.n_options))
    if p is None and rule.options:
        p = _letters_by_value(pred, rule)
    if p is None:
        return Verdict(False, "letter")
    if len(p) == 1 and rule.options and names_another_option(pred, p, rule.options, rule.n_options):
        return Verdict(False, "letter")  # "C: 12" where 12 is option B: two different answers
    if rule.gold_is_text:  # a gold text shared by several options (MathVista pids 587, 740, 781): any of them
        return Verdict(p <= g, "letter")
    return Verdict(p == g, "letter")


def _judge_text(pred: str, gold: str, rule: Rule) -> Verdict:
    if text_key(pred) == text_key(gold) and text_key(gold):
        return Verdict(True, "text")
    if harmless_qualifier(pred, gold):
        return Verdict(True, "qualified")
    if any(c.isdigit() or c == "\\" for c in gold):
        return _symbolic(pred, gold, rule)
    return Verdict(False, "text")


_CACHE: OrderedDict[tuple[str, str, Rule], Verdict] = OrderedDict()
_CACHE_SIZE = 131072
_CACHE_LOCK = threading.Lock()


def judge(pred: str, gold: str, rule: Rule = GENERIC) -> Verdict:
    """Compare one extracted answer with one gold under ``rule``; cached per ``(pred, gold, rule)``.

    A verdict that rests on a symbolic result cut short (budget, dead worker) is not cached.
    """
    key = (pred, gold, rule)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    before = symbolic.volatile_count()
    verdict = _judge(pred, gold, rule)
    if symbolic.volatile_count() == before:
        with _CACHE_LOCK:
            _CACHE[key] = verdict
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return verdict


def clear_cache() -> None:
    """Forget cached verdicts (and symbolic results): benchmarks time cold runs with it."""
    with _CACHE_LOCK:
        _CACHE.clear()
    symbolic.clear_caches()
    for fn in (text.clean, text.squash, text.text_key, numeric.parse_number, numeric.split_unit,
               harmless_qualifier, lone_number, set_aside):
        fn.cache_clear()


def _judge(pred: str, gold: str, rule: Rule) -> Verdict:
    pred, gold = pred[:MAX_CHARS], gold[:MAX_CHARS]
    if not clean(pred) or not clean(gold):
        return Verdict(False, "empty")
    head = set_aside(pred)
    if head is not None and set_aside(gold) is None:
        return _judge(head, gold, rule)  # "D, not C": the rejected alternative is no second answer
    if rule.multi_choice:
        v = _judge_choice(pred, gold, rule)
        if v is not None:
            return v
    if squash(pred) == squash(gold):
        return Verdict(True, "same")
    v = _judge_bearing(pred, gold)
    if v is not None:
        return v
    if rule.answer_type in ("expression", "list"):
        pred, gold = inequality_chain(and_list(clean(pred))), and_list(clean(gold))
        if squash(pred) == squash(gold):
            return Verdict(True, "same")
    if rule.answer_type == "list" or ("," in pred and "," in gold):
        v = _judge_list(pred, gold, rule)
        if v is not None:
            return v
    v = _judge_number(pred, gold, rule)
    plain = parse_number(pred) is not None or (
        "=" in pred and (rhs := assigned_value(pred)) is not None and parse_number(rhs) is not None)
    if v is not None and (v.correct or plain or rule.answer_type in ("integer", "float")):
        return v
    if _RELATION.search(clean(pred)) and parse_number(gold) is not None:
        return Verdict(False, "relation")  # "\\geq 6", "x > 5" bound a number, they do not give it
    if rule.answer_type == "text":
        return _judge_text(pred, gold, rule)
    if text_key(gold) and text_key(pred) == text_key(gold) and not any(c.isdigit() for c in gold):
        return Verdict(True, "text")
    return _judge_with_units(clean(pred), clean(gold), rule)


def _judge_bearing(pred: str, gold: str) -> Verdict | None:
    """Compass bearings compare as directions (:func:`~tts.grading.bearings.same_bearing`); None: no bearing."""
    same = same_bearing(pred, gold)
    return None if same is None else Verdict(same, "bearing")


def _converted_closed_forms(p_core: str, p_unit: str, g_core: str, g_unit: str) -> bool | None:
    """Two closed forms in units of one quantity, compared by value after converting ("600\\pi mm^2" and
    "6\\pi cm^2"); None when either is no closed-form number."""
    factor = convert(Fraction(1), p_unit, g_unit)
    p, g = _value_of(p_core), _value_of(g_core)
    if factor is None or p is None or g is None:
        return None
    return abs(p.value * factor - g.value) <= Fraction(1, 10**9) * max(Fraction(1), abs(g.value))


def _judge_with_units(pred: str, gold: str, rule: Rule) -> Verdict:
    """A closed form with a unit ("\\sqrt{20} cm", "8\\pi cm^2") compares without it, unless the units
    measure different quantities."""
    p_split, g_split = split_unit(pred), split_unit(gold)
    if p_split is None and g_split is None:
        return _symbolic(pred, gold, rule)
    p_core, p_unit = p_split or (pred, None)
    g_core, g_unit = g_split or (gold, rule.unit)
    if p_unit is not None and g_unit is not None and p_unit != g_unit:
        if DEGREE in (p_unit, g_unit) or not same_dimension(p_unit, g_unit):
            return Verdict(False, "unit")
        converted = _converted_closed_forms(p_core, p_unit, g_core, g_unit)
        if converted is not None:
            return Verdict(converted, "unit")  # 600π mm² = 6π cm²
        return _symbolic(pred, gold, rule)  # same quantity, another unit: only math-verify's reading is left
    if squash(p_core) == squash(g_core):
        return Verdict(True, "same")
    return _symbolic(p_core, g_core, rule)
