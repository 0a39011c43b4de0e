"""Hostile answers at full speed: too-complex input is recognised before SymPy sees it (issue 18).

Factorial towers, towers of powers, huge results, deep nesting, noise, TeX macro loops and code payloads
(``hostile.py``, a generator of our own) must all grade without running anything, without an error and
without waiting out a symbolic timeout.
"""

from __future__ import annotations

import time

import pytest
from hostile import KINDS, hostile_items

from tts.grading import grade_many
from tts.grading.complexity import power_depth, too_complex


@pytest.mark.parametrize(
    "s",
    [
        "9!!!!!!!", "52!!!! - 52!!!", "32!!", "((81!)!)!", "(53!)!", "\\frac{(18!)!}{18!}", "(9!)^{7!}", "3^{4!}",
        "(((((40)^41)^14)^95)^11)", "x^{x^{x^{x^{2}}}}", "e^{e^{e^{5}}}", "7^7^7^7", "10^{10^{10}}",
        "123456789^{99999}", "9.9^{99999}", "\\prod_{k=1}^{1000000} k", "\\sum_{k=1}^{10^{12}} k^{50}",
        "\\int_0^{24275} x^{9545} e^{-x} dx", "\\lim_{n\\to\\infty} (1+1/n)^{n^{2}}", "\\def\\a{\\a\\a}\\a",
        "\\newcommand{\\f}{\\f\\f}\\f", "\\input{/etc/passwd}", "(" * 60 + "1" + ")" * 60, "2^{1000000000}",
        "\\binom{10^{9}}{5000}", "100000!",
    ],
)
def test_too_complex_before_sympy(s: str) -> None:
    assert too_complex(s), s


@pytest.mark.parametrize(
    "s",
    ["(n-1)!", "\\frac{(n+1)!}{2}", "5!!", "10!", "(5+3)!", "2^{2^{3}}", "e^{x^2}", "(2^3)^4", "x^2+y^2+z^2",
     "\\sum_{k=1}^{10} k^2", "\\int_0^1 x^2 dx", "\\sqrt{2}^{3}", "2^{10}", "\\binom{10}{3}"],
)
def test_ordinary_answers_are_not_too_complex(s: str) -> None:
    assert too_complex(s) is None, s


@pytest.mark.parametrize("s,depth", [("x", 0), ("x^2", 1), ("e^{x^2}", 2), ("(2^3)^4", 2), ("x^{x^{x}}", 2), ("x^{x^{x^{x}}}", 3),
                                     ("7^7^7", 2), ("{(((2)^3)^4)^5}", 3), ("a^2 + b^2", 1)])
def test_power_depth(s: str, depth: int) -> None:
    assert power_depth(s) == depth


def test_every_kind_of_hostile_answer_grades_without_error_or_timeout() -> None:
    items = hostile_items(3 * len(KINDS), seed=1)
    for g in grade_many(items, workers=1):
        assert not g.reason.startswith(("error", "timeout")), g


@pytest.mark.slow
def test_two_thousand_hostile_answers_grade_within_a_minute() -> None:
    items = hostile_items(2000)
    start = time.monotonic()
    out = grade_many(items, workers=2)
    seconds = time.monotonic() - start
    print(f"2000 hostile answers graded in {seconds:.1f} s")
    assert len(out) == 2000
    assert [g for g in out if g.reason.startswith(("error", "timeout"))] == []
    assert seconds < 60  # the bound for this machine; typically 8-10 s
