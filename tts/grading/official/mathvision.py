"""MATH-Vision's published scorer (``evaluation/evaluate.py`` + ``utils.py``), reproduced without ``eval``.

Rules only, on the raw response: a few letter patterns at the start or end, "... is <number>", the text
after "the (final/correct) answer is" when there is no box, else the last ``\\boxed{`` (greedy, up to the
last ``}``); then ``find_math_answer``'s clean-up (lower-case, text after the last ``=``/``\\approx``, unit and
LaTeX stripping, Hendrycks ``_strip_string``). ``is_equal``: equal strings, or tuples whose elements agree
after rounding to 2 decimals, or ``round(value, 2)`` equality, where the official value is Python's
``eval`` of ``str(latex2sympy(x))`` with ``from math import *`` in scope. We compute that value with SymPy in a
bounded worker instead of ``eval`` (see :func:`tts.grading.symbolic_ops.mathvision_value`); the official
scorer used the older ``latex2sympy2`` package; we call ``latex2sympy2_extended`` without its
normalisation layer (which the old package did not have), so ``$...$`` and ``\\boxed{}`` golds fail to parse as
they did there; a few malformed inputs may still parse differently. Correct when the answer equals the gold letter or the gold option's text.

Example:
    >>> find_math_answer("so the answer is \\\\boxed{\\\\dfrac{1}{2}}")
    '\\\\frac{1}{2}'
"""

from __future__ import annotations

import re

from tts.grading import symbolic
from tts.records import Problem

_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")


def _is_number(s: str) -> bool:
    try:
        float(s)
    except (ValueError, OverflowError):
        return False
    return True


def _fix_fracs(s: str) -> str:
    parts = s.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part[:1] == "{":
            out += part
            continue
        if len(part) < 2:
            return s
        a, b, rest = part[0], part[1], part[2:]
        out += "{" + a + "}" + ("{" + b + "}" if b != "{" else b) + rest
    return out


def _fix_a_slash_b(s: str) -> str:
    pieces = s.split("/")
    if len(pieces) != 2:
        return s
    try:
        a, b = int(pieces[0]), int(pieces[1])
    except ValueError:
        return s
    if s != f"{a}/{b}":
        return s
    return "\\frac{" + str(a) + "}{" + str(b) + "}"


def _fix_sqrt(s: str) -> str:
    if "\\sqrt" not in s:
        return s
    parts = s.split("\\sqrt")
    out = parts[0]
    for part in parts[1:]:
        out += "\\sqrt{" + part[0] + "}" + part[1:] if part and part[0] != "{" else "\\sqrt" + part
    return out


def _strip_string(s: str) -> str:
    s = s.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "").replace("$", "")
    s = s.split("\\text{ ")[0]
    s = s.replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.")
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    if len(s.split("=")) == 2:
        s = s.split("=")[-1]
    if len(s.split("\\approx")) == 2:
        s = s.split("\\approx")[-1]
    if "sqrt" in s:
        s = _fix_sqrt(s)
    s = s.replace(" ", "")
    if "sqrt" in s:  # the official gate: fractions are only repaired when a root is present
        s = _fix_fracs(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_a_slash_b(s)


def find_math_answer(s: str) -> str:
    """The official answer clean-up: last box (greedy), cut at a stray ``}``, after the last ``=``, stripped."""
    s = s.lower()
    s = s.replace("{}", "")
    boxes = re.findall(r"oxed{(.*)}", s, flags=re.S)
    ans = boxes[-1] if boxes else s
    if ans.find("}") != -1 and (ans.find("{") == -1 or ans.find("}") < ans.find("{")):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1].split("\\approx")[-1]
    ans = ans.replace(" ", "").replace("\\,", "").replace("∞", "\\infty").replace("+\\infty", "\\infty")
    ans = ans.replace("\\\\", "\\").replace("\n", "").replace("\\text", "").replace("\\mbox", "")
    ans = ans.replace("bmatrix", "pmatrix").replace("\\left", "").replace("\\right", "").replace("^{\\circ}", "")
    ans = ans.replace("^\\circ", "").replace("{m}^3", "").replace("m^3", "").replace("{units}", "")
    ans = ans.replace("units", "").replace("{km}", "").replace("km", "")
    return _strip_string(ans)


def extract(response: str) -> str:
    """The official ``model_answer`` of a response."""
    answer = response.strip()
    for c in "ABCDE":
        if (answer.endswith(f" {c}.") or answer.endswith(f" ({c}).") or answer.startswith(f"{c}\n")
                or answer.startswith(f"({c})\n") or answer.startswith(f"({c}) {c}\n")):
            answer = c
    tail = answer.split("is ")[-1].rstrip(".")
    if _is_number(tail):
        answer = tail
    if "oxed{" not in answer:
        for flag in _FLAGS:
            for variant in (flag, flag.replace("the", "The")):
                raw = answer
                answer = answer.split(variant)[-1].strip()
                if variant in raw:
                    answer = answer.split("\n")[0].split(". ")[0]
    elif answer.count("oxed{") > 1:
        answer = "\\boxed{" + answer.split("oxed{")[-1]
    answer = find_math_answer(answer)
    for c in "abcde":
        answer = answer.replace(f"({c})", c).replace("{" + c + "}", c)
    return answer.rstrip(".").lstrip(":").strip()


def _value(s: str) -> tuple[bool, float] | None:
    out = symbolic.mathvision_value(s)
    if out.status != "ok" or out.value is None:
        return None
    is_int, value = out.value
    return bool(is_int), value


def _rounded_text(s: str) -> str | None:
    v = _value(s)
    if v is None:
        return None
    is_int, value = v
    return str(round(int(value), 2)) if is_int else str(round(float(value), 2))


def _tuple_text(s: str) -> str:
    """``eval_tuple``: each element of "(a,b)" / "[a,b]" replaced by its rounded value (unchanged on failure)."""
    if len(s) < 2:
        return s
    items = s[1:-1].split(",")
    if not ((s[0] == "(" and s[-1] == ")") or (s[0] == "[" and s[-1] == "]")) or len(items) <= 1:
        return s
    out = []
    for item in items:
        if "infty" in item or item in ("a", "-a"):
            out.append(item)
            continue
        text = _rounded_text(item)
        if text is None:
            return s
        out.append(text)
    return s[0] + ",".join(out) + s[-1]


def is_equal(a: str, b: str) -> bool:
    """The official ``is_equal``: string, tuple or 2-decimal numeric equality; any failure is False."""
    a, b = a.lower(), b.lower()
    if not a.replace(" ", "") or not b.replace(" ", ""):
        return False
    if a.strip() == b.strip():
        return True
    a, b = _tuple_text(a), _tuple_text(b)
    if a == b:
        return True
    va, vb = _value(b), _value(a)
    if va is None or vb is None:
        return False
    return round(va[1], 2) == round(vb[1], 2)


def _gold_value(gold: str, problem: Problem) -> str:
    if problem.choices and len(gold) == 1 and 0 <= ord(gold) - ord("A") < len(problem.choices):
        return str(problem.choices[ord(gold) - ord("A")])
    return ""


def official_equal(answer: str, gold: str, problem: Problem) -> bool:
    return is_equal(gold, answer) or is_equal(_gold_value(gold, problem), answer)


def grade(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    answer = extract(response)
    correct = any(official_equal(answer, str(g), problem) for g in problem.golds)
    return correct, answer, "official mathvision: rule-based extraction and 2-decimal comparison"
