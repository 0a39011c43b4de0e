"""MMMU's published scorer (``mmmu/utils/eval_utils.py``), reproduced, on the raw response.

Multiple choice: letters in parentheses, then letters between spaces, then (for responses over five words)
option texts; several candidates → the last mentioned; **none → a random letter** (the official module
seeds ``random`` with 42 once and draws in file order; :func:`tts.grading.grade_many` reproduces that with
one ``random.Random(42)`` over its input order, a single :func:`tts.grading.grade` call draws the first
number of that stream). Open questions: candidate tails after "is", "so", "therefore", ... plus every
number, compared as strings (gold a *substring* of the candidate) or as numbers rounded to 2 decimals.

Example:
    >>> parse_multi_choice("The answer is (B).", ["A", "B", "C"], {"A": "1", "B": "2", "C": "3"}, None)
    ('B', False)
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from tts.records import Problem

SEED = 42
_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
_NUM_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_NUM_SCI = re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+")
_NUM_SIMPLE = re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])")


def parse_multi_choice(
    response: str, all_choices: Sequence[str], index2ans: dict[str, str], rng: random.Random | None
) -> tuple[str, bool]:
    """``parse_multi_choice_response``: the chosen letter and whether it was a random guess."""
    for ch in (",", ".", "!", "?", ";", ":", "'"):
        response = response.strip(ch)
    response = " " + response + " "
    by_index, bracketed = True, False
    candidates = [c for c in all_choices if f"({c})" in response]
    if candidates:
        bracketed = True
    else:
        candidates = [c for c in all_choices if f" {c} " in response]
    if not candidates and len(response.split()) > 5:
        candidates = [i for i, ans in index2ans.items() if ans.lower() in response.lower()]
        by_index = not candidates
    if not candidates:
        return (rng or random.Random(SEED)).choice(list(all_choices)), True
    if len(candidates) == 1:
        return candidates[0], False
    if by_index:
        positions = [response.rfind(f"({c})" if bracketed else f" {c} ") for c in candidates]
    else:
        positions = [response.lower().rfind(index2ans[c].lower()) for c in candidates]
    return candidates[positions.index(max(positions))], False


def _is_number(s: str) -> bool:
    try:
        float(s.replace(",", ""))
    except ValueError:
        return False
    return True


def normalize_str(s: str) -> list:
    s = s.strip()
    if _is_number(s):
        return [round(float(s.replace(",", "")), 2)]
    s = s.lower()
    return [" " + s, s + " "] if len(s) == 1 else [s]


def extract_numbers(s: str) -> list[str]:
    return _NUM_COMMAS.findall(s) + _NUM_SCI.findall(s) + _NUM_SIMPLE.findall(s)


def parse_open(response: str) -> list:
    """``parse_open_response``: the normalised candidate answers of an open question."""
    response = response.strip().strip(".").lower()
    subs = re.split(r"\.\s(?=[A-Z])|\n", response)
    keys: list[str] = []
    indicators = list(_INDICATORS)
    for idx, sub in enumerate(subs):
        if idx == len(subs) - 1:
            indicators.append("=")
        shortest = None
        for ind in indicators:
            if ind in sub:
                tail = sub.split(ind)[-1].strip()
                if not shortest or len(tail) < len(shortest):
                    shortest = tail
        if shortest and shortest.strip() not in (":", ",", ".", "!", "?", ";", "'"):
            keys.append(shortest)
    if not keys:
        keys = [response]
    preds: list = list(keys)
    for key in keys:
        preds.extend(extract_numbers(key))
    normalized: list = []
    for p in preds:
        normalized.extend(normalize_str(p))
    return list(dict.fromkeys(normalized))


def eval_open(golds: Sequence[str], preds: list) -> bool:
    answers: list = []
    for g in golds:
        answers.extend(normalize_str(g))
    for pred in preds:
        if isinstance(pred, str):
            if any(isinstance(a, str) and a in pred for a in answers):
                return True
        elif pred in answers:
            return True
    return False


def _index(problem: Problem) -> tuple[list[str], dict[str, str]]:
    letters = [chr(ord("A") + i) for i in range(len(problem.choices))]
    return letters, {c: str(opt) for c, opt in zip(letters, problem.choices, strict=True)}


def official_equal(answer: str, gold: str, problem: Problem, rng: random.Random | None = None) -> bool:
    if problem.question_type == "multi_choice" and problem.choices:
        letters, index2ans = _index(problem)
        return parse_multi_choice(answer, letters, index2ans, rng)[0] == gold
    return eval_open([gold], parse_open(answer))


def grade(response: str, problem: Problem, rng: random.Random | None) -> tuple[bool, str | None, str]:
    if problem.question_type == "multi_choice" and problem.choices:
        letters, index2ans = _index(problem)
        letter, guessed = parse_multi_choice(response, letters, index2ans, rng)
        how = "random guess (seed 42)" if guessed else "parsed letter"
        return letter in problem.golds, letter, f"official mmmu: {how}"
    preds = parse_open(response)
    shown = ", ".join(str(p).strip() for p in preds[:3])
    return eval_open(problem.golds, preds), shown or None, "official mmmu: open-answer candidates"
