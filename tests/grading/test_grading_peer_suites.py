"""The peer suites as data: math-verify's own cases and MATH's is_equiv cases, gold first.

Every case must give its expected verdict unless it is listed in ``data/peer_disagreements.json`` with a
reason, and every listed disagreement must really disagree (so the list stays honest).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tts.grading import equivalent, extract_answer, grade
from tts.records import Problem

SUITES = Path(__file__).parent / "data" / "peer"  # copies of /work/shared/peer-suites
LISTED = json.loads((Path(__file__).parent / "data" / "peer_disagreements.json").read_text())
_SYMPY_TEXT = {"sympy.Rational(1, 3)": "\\frac{1}{3}", "sympy.Rational(1, 3) + 1": "1 + \\frac{1}{3}",
               "sympy.Float(0.333)": "0.333", "sympy.Float(1.333)": "1.333"}


def _rows(name: str) -> list[dict]:
    path = SUITES / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _generic(answer=None, precision=None) -> Problem:
    return Problem(id="peer", benchmark="generic", split="", question="", answer=answer, precision=precision)


def _math_verify_verdict(row: dict) -> bool:
    """Our verdict on one math-verify case, run the way its test ran it (gold and pred both extracted)."""
    if row["kind"] == "verify":
        precision = row["config_args"].get("precision", 6)
        gold = extract_answer(row["gold"], _generic()).answer or row["gold"]
        return grade(row["pred"], _generic(gold, None if precision == 6 else precision)).correct
    if row["kind"] == "sympy_expr_eq":
        gold, pred = _SYMPY_TEXT[row["gold"]], _SYMPY_TEXT[row["pred"]]
        return equivalent(pred, gold, _generic(gold, row["config_args"]["float_rounding"]))
    # parse-only cases: string extraction of option letters, or extraction of a box / \frac12
    if row["source"].startswith("test_string_extraction"):
        letters = "ABCDEFGHIJKLMNOPQRSTU"
        mc = Problem(id="peer", benchmark="generic", split="", question="", question_type="multi_choice",
                     choices=tuple(letters), answer=row["gold"])
        found = extract_answer(row["pred"], mc)
        return found.answer is not None and (row["gold"] is None or grade(row["pred"], mc).correct)
    found = extract_answer(row["pred"], _generic())
    if row["gold"] is None:
        return found.answer == "1"
    return found.answer is not None and equivalent(found.answer, "1/2")


def _cases(name: str):
    listed = {entry["line"]: entry for entry in LISTED[name]}
    for i, row in enumerate(_rows(name)):
        yield pytest.param(i, row, listed.get(i), id=f"{name.split('_')[0]}-{i}")


@pytest.mark.slow
@pytest.mark.parametrize("line,row,listed", list(_cases("math_verify_cases.jsonl")))
def test_math_verify_case(line: int, row: dict, listed: dict | None) -> None:
    if listed is not None and listed["kind"] == "not_applicable":
        assert row["kind"] == "parse", "only parser-configuration cases may be marked not applicable"
        return
    ours = _math_verify_verdict(row)
    if listed is not None:
        assert ours != row["expected"], f"listed as a disagreement but we now agree: {listed['reason']}"
    else:
        assert ours == row["expected"], (row["gold"], row["pred"])


@pytest.mark.parametrize("line,row,listed", list(_cases("hendrycks_equiv_cases.jsonl")))
def test_hendrycks_case(line: int, row: dict, listed: dict | None) -> None:
    ours = equivalent(row["pred"], row["gold"])
    assert (ours != row["expected"]) if listed else (ours == row["expected"]), (row["gold"], row["pred"])


def test_disagreements_are_few_and_explained() -> None:
    rows = _rows("math_verify_cases.jsonl")
    entries = LISTED["math_verify_cases.jsonl"]
    disagree = [e for e in entries if e["kind"] == "disagree"]
    assert all(len(e["reason"]) > 40 for e in entries)
    verify_cases = sum(r["kind"] == "verify" for r in rows)
    assert verify_cases == 270 and len(disagree) <= 8
