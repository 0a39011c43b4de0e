"""The short official rules: WeMath and LogicVista (and DynaMath as VLMEvalKit scores it).

- WeMath (``evaluation/accuracy.py``): the text after the last "Answer", with ``>``, ``<``, ``:`` and ``.``
  removed and stripped; its first character if it is one of A-H, else no answer; equal to the gold letter.
  (A response ending "Answer: \\boxed{B}" therefore scores *wrong*: its first character is a backslash.)
- LogicVista (``eval/extract_accuracy.py``): GPT-4 extracts the chosen letters; here the strict extractor
  stands in for GPT. The letters are lower-cased, sorted and compared with the gold split on ", ".
- DynaMath: no scorer in its repository; VLMEvalKit's: the JSON ``"short answer"`` (the prompt asks for
  JSON) parsed by answer type, else the whole response (outer braces, backslashes removed), else GPT
  reformatting, replaced here by the strict extractor. Floats within 1e-3 (a ``π`` suffix multiplies by
  pi), letters by equality (an unparsed letter counts when the gold letter is among the first three
  characters), other answers when the prediction is a *substring* of the gold.

Example:
    >>> wemath_letter("<Thought process>: ... <Answer>: B. 300, 400")
    'B'
    >>> wemath_letter("Answer: \\\\boxed{B}") is None
    True
"""

from __future__ import annotations

import json
import math
import re

from tts.grading.choice import option_count, parse_letters
from tts.grading.extract import extract_answer, problem_options
from tts.records import Problem

_WEMATH_STRIP = re.compile(r"[>><<:.]")


def wemath_letter(response: str) -> str | None:
    processed = _WEMATH_STRIP.sub("", response.split("Answer")[-1].strip()).strip()
    return processed[0] if processed and processed[0] in "ABCDEFGH" else None


def wemath_grade(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    letter = wemath_letter(response)
    return letter is not None and letter in problem.golds, letter, "official wemath: first character after 'Answer'"


def _letter_list(answer: str | None, problem: Problem) -> list[str]:
    if not answer:
        return []
    letters = parse_letters(answer, option_count(problem.choices, problem_options(problem)))
    return sorted(x.lower() for x in letters) if letters else []


def logicvista_equal(answer: str, gold: str, problem: Problem) -> bool:
    predicted = _letter_list(answer, problem)
    return bool(predicted) and predicted == sorted(x.lower() for x in gold.split(", "))


def logicvista_grade(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    raw = response.strip()
    if len(raw) == 1 and ((raw.isalpha() and raw.lower() not in "abcde") or not raw.isalnum()):
        # extract_accuracy.py answers a lone non-a..e letter or symbol with 'ZZZZZ' before asking GPT-4.
        return False, None, "official logicvista: a single letter outside a-e or symbol is 'ZZZZZ'"
    found = extract_answer(response, problem)
    predicted = _letter_list(found.answer, problem)
    shown = ", ".join(x.upper() for x in predicted) or None
    correct = bool(predicted) and any(predicted == sorted(x.lower() for x in g.split(", ")) for g in problem.golds)
    return correct, shown, f"official logicvista: strict extraction ({found.method}) in place of GPT-4"


def dynamath_type(problem: Problem) -> str:
    raw = str(problem.meta.get("dynamath_answer_type", "") or "")
    if raw:
        return raw
    if problem.question_type == "multi_choice":
        return "multiple choice"
    return "float" if problem.answer_type == "float" else "text"


def _vlmeval_preprocess(response: str) -> str:
    start, end = response.find("{"), response.rfind("}")
    if 0 <= start < end:
        response = response[start : end + 1]
    return response.replace("\\", "")


def _transfer(token: str) -> float:
    if "π" in token:
        return float(token.split("π")[0]) * math.pi
    return float(token)


def dynamath_parse(answer: str, answer_type: str) -> tuple[bool, float | str | None]:
    if answer_type == "float":
        if answer.isdigit():
            try:
                return True, float(answer)
            except ValueError:  # "²".isdigit() is True; VLMEvalKit would crash here, we read it as unparsed
                return False, None
        try:
            return True, _transfer(answer.split(" ")[0])
        except (ValueError, OverflowError):
            return False, None
    if answer_type == "multiple choice":
        if len(answer) == 1:
            return True, answer.upper()
        present = [ch for ch in "ABCDE" if ch in answer.upper()]
        return (True, present[0]) if len(present) == 1 else (False, None)
    return True, answer


def _dynamath_compare(value: float | str | None, parsed: bool, gold: str, kind: str, raw: str) -> bool:
    if kind == "float":
        if not parsed or value is None:
            return False
        try:
            return abs(float(value) - float(gold)) <= 0.001
        except (TypeError, ValueError, OverflowError):
            return False
    if kind == "multiple choice":
        return value == gold if parsed else gold in raw[:3].upper()
    return str(value).lower() in gold.lower()


def dynamath_equal(answer: str, gold: str, problem: Problem) -> bool:
    kind = dynamath_type(problem)
    parsed, value = dynamath_parse(answer, kind)
    return _dynamath_compare(value, parsed, gold, kind, answer)


def dynamath_grade(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    kind = dynamath_type(problem)
    pred = _vlmeval_preprocess(response)
    how = "JSON short answer"
    parsed, value = False, None
    try:
        data = json.loads(pred, strict=False)
        short = data.get("short answer") if isinstance(data, dict) else None
        if isinstance(short, str):  # VLMEvalKit's parser fails on a JSON number (no .isdigit()) and moves on
            parsed, value = dynamath_parse(short, kind)
    except (json.JSONDecodeError, ValueError):
        pass
    if not parsed:
        how = "whole response"
        parsed, value = dynamath_parse(pred, kind)
    if not parsed:
        found = extract_answer(response, problem)
        how = f"strict extraction ({found.method}) in place of GPT reformatting"
        if found.answer is not None:
            parsed, value = dynamath_parse(found.answer, kind)
    correct = any(_dynamath_compare(value, parsed, str(g), kind, pred) for g in problem.golds)
    shown = None if value is None else str(value)
    return correct, shown, f"official dynamath (VLMEvalKit): {how}"
