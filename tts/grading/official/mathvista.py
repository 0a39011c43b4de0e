"""MathVista's published scorer (``evaluation/extract_answer.py`` + ``calculate_score.py``), reproduced.

Official extraction asks GPT for the answer unless a quick rule applies (empty response, a response that is
exactly an option, a response that ``int()``/``float()`` accepts). Here the GPT step is replaced by the
strict extractor. The official normalisation is kept with its quirks: a letter in parentheses or alone maps
to its option text, **any other multiple-choice answer maps to the closest option by edit distance** (so
nothing is ever unanswered), integer answers go through ``str(int(float(x)))`` (2.9 → "2"), float answers
through ``str(round(float(x), precision))``, list answers through ``str(x)``; then exact string equality.

Example:
    >>> normalize_extraction("2.9", [], "free_form", "integer", None)
    '2'
    >>> normalize_extraction("6", ["6cm", "8cm"], "multi_choice", "text", None)
    '6cm'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tts.grading.extract import extract_answer
from tts.grading.numeric import parse_number
from tts.records import Problem

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), as the ``Levenshtein`` package computes."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def most_similar(prediction: str, choices: Sequence[str]) -> str:
    """The choice closest to ``prediction`` by edit distance (the first one on ties)."""
    prediction = prediction[:2000]
    distances = [edit_distance(prediction, str(choice)[:2000]) for choice in choices]
    return choices[distances.index(min(distances))]


def quick_extraction(response: str, problem: Problem) -> str | None:
    """The official rules that answer without GPT, or None when the official scorer would call GPT."""
    if response == "":
        return ""
    if problem.question_type == "multi_choice" and response in problem.choices:
        return response
    if problem.answer_type == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if problem.answer_type == "float":
        try:
            return str(float(response))
        except ValueError:
            pass
    return None


def bare_number(extraction: str) -> str:
    """The number an extraction spells, as the GPT extractor returns it (its few-shot answers are bare
    numbers: ``5`` for "5 years", ``-3`` for "−3", ``1000`` for "1,000", ``0.6`` for ``\\frac{3}{5}``);
    the extraction unchanged when it is not a plain number."""
    if not any(c.isdigit() for c in extraction):
        return extraction  # number words stay words here: official mode predates the strict word rule
    number = parse_number(extraction)
    if number is None:
        return extraction
    try:
        return str(float(number.value))
    except OverflowError:
        return extraction


def normalize_extraction(
    extraction: str, choices: Sequence[str], question_type: str, answer_type: str, precision: int | None
) -> str | None:
    """``normalize_extracted_answer`` of the official scorer (``ignore_empty_extractions=False``)."""
    if question_type == "multi_choice":
        extraction = extraction.strip()
        letters = _PAREN_LETTER.findall(extraction)
        if letters:
            extraction = letters[0].upper()
        options = [chr(ord("A") + i) for i in range(len(choices))]
        if extraction in options:
            return choices[options.index(extraction)]
        return most_similar(extraction, list(choices)) if choices else None
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            return str(round(float(extraction), int(precision or 0)))
        if answer_type == "list":
            return str(extraction)
    except (ValueError, OverflowError, TypeError):
        return None
    return extraction


def official_equal(extraction: str, gold: str, problem: Problem) -> bool:
    normalized = normalize_extraction(extraction, problem.choices, problem.question_type, problem.answer_type,
                                      problem.precision)
    return normalized is not None and normalized == gold


def grade(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    extraction = quick_extraction(response, problem)
    how = "quick rule"
    if extraction is None:
        found = extract_answer(response, problem)
        extraction, how = (found.answer or ""), f"strict extraction ({found.method}) in place of GPT"
        if problem.question_type != "multi_choice" and problem.answer_type in ("integer", "float"):
            extraction = bare_number(extraction)
    normalized = normalize_extraction(extraction, problem.choices, problem.question_type, problem.answer_type,
                                      problem.precision)
    correct = normalized is not None and any(normalized == g for g in problem.golds)
    return correct, normalized, f"official mathvista: {how}; normalised to {normalized!r}"
