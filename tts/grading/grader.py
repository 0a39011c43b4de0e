"""``grade``: one response → a :class:`tts.records.Grade`; ``equivalent``: two answers. (Many responses, in
worker processes: :mod:`tts.grading.pool`.)

A grade never raises: a bad response, an odd problem or a symbolic timeout is a wrong answer with the cause
in ``reason``. Reasons read ``match (<check>; <evidence>)`` / ``mismatch (<check>; <evidence>)``, e.g.
``match (number; boxed)``, or ``no answer``, ``no gold``, ``timeout``, ``error: ...``; official grades start
with ``official <benchmark>: ...``.

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="q1", benchmark="mathvista", split="testmini", question="q", choices=("6cm", "8cm"),
    ...             answer="8cm", question_type="multi_choice", answer_type="text")
    >>> g = grade("The longer side is 8 cm.\\nAnswer: \\\\boxed{B}", p)
    >>> (g.correct, g.extracted, g.reason)
    (True, 'B', 'match (letter; boxed)')
"""

from __future__ import annotations

import random
import re

from tts.grading import symbolic
from tts.grading.equivalence import judge
from tts.grading.extract import extract_answer
from tts.grading.official import grade_official, official_equivalent, official_fallback_note
from tts.grading.rules import rule_for
from tts.records import GRADING_RULES, Grade, GradingRules, Problem

RULE_SETS: tuple[GradingRules, ...] = GRADING_RULES
_SURROGATE = re.compile("[\ud800-\udfff]")


def _strict(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    found = extract_answer(response, problem)
    if found.answer is None:
        return False, None, "no answer"
    rule = rule_for(problem)
    verdicts = [judge(found.answer, str(gold), rule) for gold in problem.golds]
    best = next((v for v in verdicts if v.correct), verdicts[0])
    if best.how in ("timeout", "too_complex", "error"):
        return False, found.answer, f"{best.how} ({found.method})"
    word = "match" if best.correct else "mismatch"
    return best.correct, found.answer, f"{word} ({best.how}; {found.method})"


def grade(
    response: str,
    problem: Problem,
    rules: GradingRules = "strict",
    *,
    sample_idx: int = 0,
    rng: random.Random | None = None,
) -> Grade:
    """Grade ``response`` against ``problem`` under ``rules`` (``strict`` or ``official``).

    ``rng`` is the random stream MMMU's official scorer draws its fallback letters from (see
    :mod:`tts.grading.official.mmmu`); leave it None outside :func:`grade_many`.
    """
    if rules not in RULE_SETS:
        raise ValueError(f"rules must be one of {RULE_SETS}, got {rules!r}")
    response = encodable(response) if isinstance(response, str) else ""
    try:
        with symbolic.budget(symbolic.call_budget()):
            return _grade(response, problem, rules, sample_idx, rng)
    except Exception as exc:  # noqa: BLE001 - one bad line must never stop a grading run
        reason = f"error: {type(exc).__name__}: {str(exc)[:160]}"
        return Grade(problem.id, sample_idx, None, False, reason, rules)


def encodable(text: str) -> str:
    """``text`` with every character UTF-8 cannot encode (lone surrogates such as ``"\\ud800"``) replaced by
    U+FFFD, so that a grade and everything it carries can be written anywhere."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _grade(response: str, problem: Problem, rules: GradingRules, sample_idx: int, rng: random.Random | None) -> Grade:
    try:
        if not problem.golds:
            found = extract_answer(response, problem)
            return Grade(problem.id, sample_idx, found.answer, False, "no gold", rules)
        result = None
        if rules == "official":
            result = grade_official(response, problem, rng)
            if result is None and official_fallback_note(problem.benchmark):
                correct, extracted, reason = _strict(response, problem)
                result = (correct, extracted, f"official {problem.benchmark} (strict fallback): {reason}")
        correct, extracted, reason = result if result is not None else _strict(response, problem)
    except Exception as exc:  # noqa: BLE001 - one bad line must never stop a grading run
        correct, extracted, reason = False, None, f"error: {type(exc).__name__}: {str(exc)[:160]}"
    return Grade(problem.id, sample_idx, extracted, bool(correct), reason, rules)


def equivalent(pred: str, gold: str, problem: Problem | None = None, *, rules: GradingRules = "strict") -> bool:
    """Whether ``pred`` is the answer ``gold`` (gold-first semantics); never raises.

    ``problem`` supplies the benchmark rule (options, precision, tolerance); without one, generic math
    equivalence. ``rules="official"`` applies the benchmark's published comparison where it has a
    rule-based one (see :mod:`tts.grading.official`).

    Example:
        >>> equivalent("0.5", "\\\\frac{1}{2}")
        True
    """
    try:
        if not isinstance(pred, str) or not isinstance(gold, str):
            return False
        with symbolic.budget(symbolic.call_budget()):
            if rules == "official" and problem is not None:
                return official_equivalent(pred, gold, problem)
            return judge(pred, gold, rule_for(problem)).correct
    except Exception:  # noqa: BLE001 - the contract is "never raises"; an odd input is simply not equal
        return False
