"""Per-benchmark comparison rules in strict mode: which numeric tolerance, what a gold means.

A :class:`Rule` is everything about a problem that changes a verdict; it is hashable, so verdicts can be
cached per ``(pred, gold, rule)``. The benchmark facts come from each benchmark's official scorer:

Numeric tolerance, by benchmark (strict mode):

==================  ==========================================================================================
MathVista           float answers: both rounded to the row's ``precision`` (1 or 2 decimals) — its official
                    rule; integer answers by exact value (2.9 is not 2, unlike the official ``int()``)
MMMU                open (free-form) numeric answers: both rounded to 2 decimals (``normalize_str`` of the
                    official ``eval_open``)
DynaMath            float answers: ``|pred - gold| <= 1e-3`` (VLMEvalKit's rule; its prompt asks for three
                    decimals)
any benchmark       a precision the question states ("correct to one decimal place", "round to two
                    decimals", "to the nearest tenth"): both rounded to it
otherwise           exact value; a decimal with at least two places that is the correctly rounded value of a
(MathVision,        non-terminating exact gold counts (2.29 for 16/7, 12.57 for 4π), and a gold written as a
MathVerse, WeMath,  rounded decimal accepts the exact value that rounds to it
LogicVista)
==================  ==========================================================================================

Units: the reference unit of a number is the gold's own unit ("8 cm"), else the problem's ``unit`` field
(MathVista), else one the question names ("(Unit: g)", "in N?", "how many years"); a predicted unit is
converted to it (pint), and a unit of another quantity is wrong. With none of these, the one unit the
question's own quantities are given in ("the perimeter is 24 cm") may read a prediction in another unit of
the same quantity ("100 mm" for 10); it never makes an answer wrong, since a gold may be in another unit.

The question is ``question``, or for MathVerse's vision-heavy rows (text drawn in the image) the fuller
``meta["question_for_eval"]`` (:func:`tts.grading.extract.question_text`): options, units and a stated
precision are read from it.

Other facts: MathVista multiple-choice golds are option *texts*; MathVision, MMMU, MathVerse, WeMath and
LogicVista golds are letters, LogicVista golds may name several letters ("A, C"), compared as sets.
Anything else (or no benchmark): generic math equivalence, ``answer_type`` "expression".

Example:
    >>> from tts.records import Problem
    >>> rule_for(Problem(id="1", benchmark="dynamath", split="s", question="q", answer="1.5",
    ...                  answer_type="float")).abs_tol
    Fraction(1, 1000)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from tts.grading.choice import option_count
from tts.grading.extract import problem_options, question_text
from tts.grading.numeric import CURRENCIES, DEGREE, read_tail
from tts.grading.words import words_value
from tts.records import ANSWER_TYPES, AnswerType, Problem, QuestionType

BENCHMARKS = ("mathvista", "mathvision", "mmmu", "mathverse", "dynamath", "wemath", "logicvista")


@dataclass(frozen=True)
class Rule:
    """How to compare one prediction with one gold for a problem (strict mode)."""

    benchmark: str = "generic"
    multi_choice: bool = False
    answer_type: str = "expression"
    options: tuple[str, ...] = ()
    n_options: int = 0
    gold_is_text: bool = False
    precision: int | None = None
    abs_tol: Fraction | None = None
    integer: bool = False
    unit: str | None = None  # the unit the problem asks for, when the gold does not carry one
    context_unit: str | None = None  # the one unit the question's own quantities use ("24 cm"), if any


_UNIT_FIELD = re.compile(r"\(\s*units?\s*:\s*([^()]{1,30})\)", re.IGNORECASE)
# A lookahead, so that every "in" is tried: in "the tension in the rope in newtons?" the first "in" reads "the rope
# in newtons" (no unit) and must not swallow the second.
_IN_UNIT = re.compile(r"\bin\s+(?:units\s+of\s+)?(?=([A-Za-zμΩ°²³^/ ]{1,30}?)\s*(?:[?.,;)]|$))", re.IGNORECASE)
_HOW_MANY = re.compile(r"\bhow\s+many\s+([A-Za-z]+(?:\s+[A-Za-z]+)?)", re.IGNORECASE)
_DECIMALS = re.compile(
    r"\b(?:correct|round(?:ed)?|accurate|answer)\w*\s+(?:it\s+)?to\s+(\w+)\s+decimal(?:\s+places?|\s+digits?|s)?\b"
    r"|\b(\w+)\s+decimal\s+places?\b|\bto\s+the\s+nearest\s+(tenth|hundredth|thousandth|whole\s+number|integer)\b",
    re.IGNORECASE,
)
_NEAREST = {"tenth": 1, "hundredth": 2, "thousandth": 3, "whole number": 0, "integer": 0}


def _unit_words(text: str) -> str | None:
    text = text.strip()
    for candidate in (text, text.split(" ")[0]):
        ok, unit = read_tail(candidate)
        if ok and unit is not None:
            return unit
    return None


@lru_cache(maxsize=16384)
def question_unit(question: str, unit_field: str | None = None) -> str | None:
    """The unit a problem asks for: its ``unit`` field, "(Unit: g)", "... in N?", "How many years ...".

    None when the question names none (or names a counting noun: "how many people").
    """
    if unit_field:
        return _unit_words(unit_field)
    for pattern in (_UNIT_FIELD, _IN_UNIT, _HOW_MANY):
        for m in pattern.finditer(question[-600:]):
            unit = _unit_words(m.group(1))
            if unit is not None:
                return unit
    return None


_QUANTITY = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s*(?P<u>[A-Za-zμΩ]{1,12}(?:\^\{?[23]\}?|[²³])?)(?![\w^])")


@lru_cache(maxsize=16384)
def question_quantity_unit(question: str) -> str | None:
    """The one unit of measure the question's own quantities are given in ("The perimeter is 24 cm and one
    side is 6 cm" → centimeter), None when it uses none or several. A number answer with no unit of its own
    is most likely in it, so a prediction in another unit of the same quantity ("100 mm") may be read in it;
    it never makes a prediction wrong (the gold may be in another unit than the question's)."""
    units = set()
    for m in _QUANTITY.finditer(question[-2000:]):
        ok, unit = read_tail(m.group("u"))
        if ok and unit is not None and unit != DEGREE and unit not in CURRENCIES:
            units.add(unit)
            if len(units) > 1:
                return None
    return units.pop() if units else None


@lru_cache(maxsize=16384)
def question_precision(question: str) -> int | None:
    """Decimal places the question asks for ("correct to one decimal place" → 1), else None."""
    m = _DECIMALS.search(question[-600:])
    if not m:
        return None
    if m.group(3):
        return _NEAREST[" ".join(m.group(3).lower().split())]
    word = (m.group(1) or m.group(2)).lower()
    if word.isdigit():
        return int(word) if int(word) <= 10 else None
    value = words_value(word)
    return int(value) if value is not None and value.denominator == 1 and value <= 10 else None


GENERIC = Rule()


def _benchmark_name(problem: Problem) -> str:
    return (problem.benchmark or "").strip().lower()


@lru_cache(maxsize=65536)
def _rule(
    benchmark: str, question_type: QuestionType, answer_type: AnswerType, precision: int | None,
    choices: tuple[str, ...], question: str, unit: str | None = None, context_unit: str | None = None,
) -> Rule:
    multi_choice = question_type == "multi_choice"
    if answer_type not in ANSWER_TYPES:
        answer_type = "expression"
    probe = Problem(id="rule", benchmark=benchmark, split="", question=question, choices=choices,
                    question_type=question_type, answer_type=answer_type)
    options = problem_options(probe) if multi_choice else ()
    n_options = option_count(choices, options) if multi_choice else 0
    kwargs: dict = {"unit": unit, "context_unit": None if unit else context_unit}
    if benchmark == "mmmu" and precision is None and not multi_choice:
        precision = 2  # MMMU's eval_open rounds numbers to 2 decimals
    if answer_type == "integer":
        kwargs["integer"] = True
    elif precision is not None and not multi_choice:
        kwargs["precision"] = int(precision)
    if benchmark == "mathvista":
        kwargs["gold_is_text"] = multi_choice
    elif benchmark == "dynamath" and answer_type == "float":
        kwargs["abs_tol"] = Fraction(1, 1000)
    return Rule(benchmark=benchmark or "generic", multi_choice=multi_choice, answer_type=answer_type,
                options=options, n_options=n_options, **kwargs)


def rule_for(problem: Problem | None) -> Rule:
    """The strict comparison rule of ``problem`` (the generic rule when there is no problem)."""
    if problem is None:
        return GENERIC
    multi_choice = problem.question_type == "multi_choice"
    # The question text matters for options read from it, and for a stated unit or precision.
    text = question_text(problem) or ""
    question = text if multi_choice and not problem.choices else ""
    precision = problem.precision
    unit = context_unit = None
    if not multi_choice:
        unit = question_unit(text, problem.unit)
        context_unit = question_quantity_unit(text) if unit is None else None
        if precision is None:
            precision = question_precision(text)
    return _rule(_benchmark_name(problem), problem.question_type, problem.answer_type, precision,
                 tuple(problem.choices), question, unit, context_unit)
