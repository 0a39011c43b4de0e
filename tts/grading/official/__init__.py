"""``official`` rules: each benchmark's published rule-based scorer, quirks included.

Use it to compare with published numbers and to see how much the quirks move them; ``strict`` is the right
verdict. Where an official scorer needs a GPT judge (MathVista extraction, MathVerse extraction and judging,
LogicVista extraction, DynaMath reformatting), the strict rule-based path stands in for the judge and
:func:`official_fallback_note` gives the sentence a report prints about it.

Example:
    >>> official_fallback_note("mathverse")[:40]
    'MathVerse: its official scorer uses GPT '
    >>> official_fallback_note("mmmu") is None
    True
"""

from __future__ import annotations

import random

from tts.grading.equivalence import judge
from tts.grading.official import mathvision, mathvista, mmmu, others
from tts.grading.rules import rule_for
from tts.records import Problem

_NOTES = {
    "mathvista": (
        "MathVista: its official scorer extracts answers with GPT; official mode uses the strict rule-based "
        "extraction instead, then the official normalisation (closest option, int() truncation, rounding) and "
        "exact string match."
    ),
    "mathverse": (
        "MathVerse: its official scorer uses GPT to extract and to judge answers; official mode falls back to "
        "the strict rule-based grader."
    ),
    "logicvista": (
        "LogicVista: its official scorer extracts the chosen letters with GPT-4; official mode uses the strict "
        "rule-based extraction instead, then the official sorted-letter comparison."
    ),
    "dynamath": (
        "DynaMath: VLMEvalKit asks GPT to reformat answers it cannot parse; official mode uses the strict "
        "rule-based extraction instead, then VLMEvalKit's comparison (1e-3 floats, substring text)."
    ),
}


def official_fallback_note(benchmark: str) -> str | None:
    """The sentence a report prints when ``official`` mode replaces a GPT judge for ``benchmark``."""
    return _NOTES.get((benchmark or "").strip().lower())


def has_official(benchmark: str) -> bool:
    """Whether ``benchmark`` has its own official rules here (others are graded strictly in both modes)."""
    return (benchmark or "").strip().lower() in ("mathvista", "mathvision", "mmmu", "dynamath", "wemath", "logicvista")


def grade_official(
    response: str, problem: Problem, rng: random.Random | None = None
) -> tuple[bool, str | None, str] | None:
    """``(correct, extracted, reason)`` under ``problem``'s official scorer, or None to grade strictly."""
    name = (problem.benchmark or "").strip().lower()
    if name == "mathvista":
        return mathvista.grade(response, problem)
    if name == "mathvision":
        return mathvision.grade(response, problem)
    if name == "mmmu":
        return mmmu.grade(response, problem, rng)
    if name == "dynamath":
        return others.dynamath_grade(response, problem)
    if name == "wemath":
        return others.wemath_grade(response, problem)
    if name == "logicvista":
        return others.logicvista_grade(response, problem)
    return None


def official_equivalent(pred: str, gold: str, problem: Problem) -> bool:
    """An already-extracted answer compared with ``gold`` by ``problem``'s official comparison rule."""
    name = (problem.benchmark or "").strip().lower()
    if name == "mathvista":
        return mathvista.official_equal(pred, gold, problem)
    if name == "mathvision":
        return mathvision.official_equal(mathvision.find_math_answer(pred), gold, problem)
    if name == "mmmu":
        return mmmu.official_equal(pred, gold, problem)
    if name == "dynamath":
        return others.dynamath_equal(pred, gold, problem)
    if name == "wemath":
        letter = others.wemath_letter("Answer: " + pred)
        return letter is not None and letter == gold
    if name == "logicvista":
        return others.logicvista_equal(pred, gold, problem)
    return judge(pred, gold, rule_for(problem)).correct
