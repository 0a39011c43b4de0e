"""Tables for the building blocks: clean-up, plain numbers, letters, extraction, generic equivalence."""

from __future__ import annotations

from fractions import Fraction

import pytest
from grading_helpers import make_problem

from tts.grading import equivalent, extract_answer
from tts.grading.choice import options_from_question, parse_letters
from tts.grading.numeric import numbers_match, parse_number
from tts.grading.symbolic import too_complex
from tts.grading.text import clean, last_boxed, repair_escapes


@pytest.mark.parametrize(
    "raw,cleaned",
    [
        ("$\\boxed{\\dfrac{1}{2}}$.", "\\frac{1}{2}"),
        ("\\x0crac{36}{13}".replace("\\x0c", "\x0c"), "\\frac{36}{13}"),
        ("118掳T", "118°T"),
        ("35^{\\circ}", "35°"),
        ("315^\\circT", "315°T"),
        ("69{degrees}", "69°"),
        ("\u22125", "-5"),
        ("x\u00b2", "x^2"),
        ("\\text{Evelyn}", "Evelyn"),
        ("**B**", "B"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "( 3, \\frac{\\pi}{2} )"),
        ("11,\\! 111,\\! 100", "11,111,100"),
        ('"$12 $ and $13 $"', "12 and 13"),
        ("  11 ", "11"),
        ("\\(x+1\\)", "x+1"),
        ("２０", "20"),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_repair_escapes_only_touches_latex_commands() -> None:
    assert repair_escapes("\text{13}") == "\\text{13}"
    assert repair_escapes("\\frac{1}{2}") == "\\frac{1}{2}"
    assert repair_escapes("a\tb") == "a\tb"


@pytest.mark.parametrize(
    "text,content",
    [
        ("so \\boxed{3} and then \\boxed{4}", "3, 4"),
        ("first \\boxed{3}. The area is then computed again.\nAnswer: \\boxed{4}", "4"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\boxed{(1, 2)}, \\boxed{(2, 1)}", "(1, 2), (2, 1)"),
        ("\\boxed{12}\n\nAnswer: \\boxed{12}", "12"),
        ("\\boxed{unclosed", None),
        ("\\fbox{7}", "7"),
        ("no box", None),
    ],
)
def test_last_boxed(text: str, content: str | None) -> None:
    assert last_boxed(text) == content


@pytest.mark.parametrize(
    "text,value,decimals,percent",
    [
        ("1,000", 1000, 0, False),
        ("1 000", 1000, 0, False),
        ("-3.50", Fraction(-7, 2), 2, False),
        ("\u22125", -5, 0, False),
        (".4", Fraction(2, 5), 1, False),
        ("1000,99", Fraction(100099, 100), 2, False),
        ("50%", 50, 0, True),
        ("28 percent", 28, 0, True),
        ("\\frac{3}{4}", Fraction(3, 4), None, False),
        ("-\\frac{3}{4}", Fraction(-3, 4), None, False),
        ("\\frac12", Fraction(1, 2), None, False),
        ("7/3", Fraction(7, 3), None, False),
        ("1.2 \\times 10^{-3}", Fraction(3, 2500), 4, False),
        ("2e3", 2000, 0, False),
        ("$1,000.99", Fraction(100099, 100), 2, False),
        ("1,000.99€", Fraction(100099, 100), 2, False),
        ("12 cm^2", 12, 0, False),
        ("5 years", 5, 0, False),
        ("90°", 90, 0, False),
        ("2191.7 metres", Fraction(21917, 10), 1, False),
    ],
)
def test_parse_number(text: str, value, decimals, percent: bool) -> None:
    n = parse_number(text)
    assert n is not None and n.value == value and n.decimals == decimals and n.percent is percent


@pytest.mark.parametrize("text", ["2a", "3x", "4\\pi", "(3,-4)", "x", "", "a", "1/0", "\\sqrt{2}", "2 and 3",
                                  "5 years and 2 months", "none", "2 pi", "June 1889", "one of them"])
def test_not_plain_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "pred,gold,kwargs,same",
    [
        ("2.9", "2", {"integer": True}, False),
        ("2.0", "2", {"integer": True}, True),
        ("1.454", "1.45", {"precision": 2}, True),
        ("1.4", "1.45", {"precision": 2}, False),
        ("2.7183", "2.718", {"abs_tol": Fraction(1, 1000)}, True),
        ("2.72", "2.718", {"abs_tol": Fraction(1, 1000)}, False),
        ("2.29", "16/7", {}, True),
        ("2.3", "16/7", {}, False),
        ("0.13", "1/8", {}, False),
        ("1/3", "0.33", {}, True),
        ("50%", "0.5", {}, True),
        ("0.5", "50%", {}, True),
        ("50", "0.5", {}, False),
        ("50 cm", "0.5 m", {}, True),
        ("5 cm", "5 m", {}, False),
        ("100 cm^2", "1 m^2", {}, False),
        ("10000 cm^2", "1 m^2", {}, True),
        # rounding is exact at any size (Decimal.quantize raised on 1E100 at one decimal: a grade "error")
        ("1E100", "1.5", {"precision": 1}, False),
        ("1E40", "1E40", {"precision": 2}, True),
        ("-2.25", "-2.3", {"precision": 1}, True),
        ("2.675", "2.68", {"precision": 2}, True),
    ],
)
def test_numbers_match(pred: str, gold: str, kwargs: dict, same: bool) -> None:
    assert numbers_match(parse_number(pred), parse_number(gold), **kwargs) is same


@pytest.mark.parametrize(
    "text,n,letters",
    [
        ("B", 4, {"B"}), ("(B)", 4, {"B"}), ("B.", 4, {"B"}), ("B:", 4, {"B"}), ("B)", 4, {"B"}),
        ("[B]", 4, {"B"}), ("option B", 4, {"B"}), ("Option (C)", 4, {"C"}), ("B. 6 cm", 4, {"B"}),
        ("(B) 6 cm", 4, {"B"}), ("A, C", 5, {"A", "C"}), ("C and A", 5, {"A", "C"}), ("b", 4, {"B"}),
        ("\\text{(C)}", 4, {"C"}), ("a, c", 4, {"A", "C"}), ("E", 4, None), ("AC", 4, None), ("a cat", 4, None),
        ("Bart", 4, None), ("B because", 4, None), ("The correct option is D", 4, {"D"}),
    ],
)
def test_parse_letters(text: str, n: int, letters: set | None) -> None:
    got = parse_letters(text, n)
    assert (set(got) if got is not None else None) == letters


def test_options_from_question() -> None:
    assert options_from_question("Q?\nChoices:\nA:40°\nB:60°\nC:80°") == ("40°", "60°", "80°")
    assert options_from_question("Q?\n(A) 3\n(B) 4") == ("3", "4")
    assert options_from_question("A: only one") == ()
    assert options_from_question("B: 1\nC: 2") == ()


MC = make_problem("generic", "B", question_type="multi_choice", answer_type="text", choices=("3", "4", "5", "6"))
INT = make_problem("generic", "5", answer_type="integer")
EXPR = make_problem("generic", "\\frac{1}{2}")
TEXT = make_problem("generic", "Tampa", answer_type="text")
LIST = make_problem("generic", "[1, 2]", answer_type="list")


@pytest.mark.parametrize(
    "response,problem,answer,method",
    [
        ("We add them.\nAnswer: \\boxed{B}", MC, "B", "boxed"),
        ("The answer is \\boxed{5}.", INT, "5", "boxed"),
        ("\\boxed{3}\nWait, recount.\nThe final answer is 5.", INT, "5", "answer_line"),
        ("<answer>5</answer>", INT, "5", "answer_tag"),
        ('{"solution": "...", "short answer": "5"}', INT, "5", "json"),
        ("**Answer:** (C) 5", MC, "(C) 5", "answer_line"),
        ("Thus, the correct answer is B because 4 fits.", MC, "B", "answer_line"),
        ("Final Answer: The largest n is 5. I hope it is correct.", INT, "5", "answer_line"),
        ("B", MC, "B", "whole"),
        ("6", MC, "6", "whole"),
        ("After checking each one, only option (B) works.", MC, "B", "letter"),
        # the last sentence commits to (B): an option named earlier in the reasoning does not count (issue 18)
        ("Option A is too small, so we pick (B).", MC, "B", "letter"),
        ("Option A is too small and (B) is too big.", MC, None, "none"),  # two letters, no commitment
        ("A is wrong.\nB is wrong.\nSo it is 5.", MC, "5", "option_text"),
        ("It could be A or C, hard to say.", MC, None, "none"),
        ("First 2 apples and 3 pears, 5 fruits in all", INT, "5", "last_number"),
        ("No idea.", INT, None, "none"),
        ("The list is [1, 2] as computed", LIST, "[1, 2]", "last_list"),
        ("The ratio is $\\frac{1}{2}$ overall.", EXPR, "\\frac{1}{2}", "math_verify"),
        ("I don't know", EXPR, None, "none"),
        ("Tampa", TEXT, "Tampa", "whole"),
        ("It is somewhere in Florida, I think, maybe near the coast.", TEXT, None, "none"),
        ("", INT, None, "none"),
        ("\\boxed{}", INT, None, "none"),
    ],
)
def test_extract_answer(response: str, problem, answer: str | None, method: str) -> None:
    found = extract_answer(response, problem)
    assert (found.answer, found.method) == (answer, method)


@pytest.mark.parametrize(
    "pred,gold,same",
    [
        ("0.5", "\\frac{1}{2}", True),
        ("\\frac{2}{4}", "1/2", True),
        ("\\sqrt{8}", "2\\sqrt{2}", True),
        ("\\frac{\\sqrt{3}}{2}", "\\sqrt{3}/2", True),
        ("2\\pi", "\\pi \\cdot 2", True),
        ("6.28", "2\\pi", True),
        ("6.2", "2\\pi", False),
        ("[0, 1)", "[0,1)", True),
        ("(0, 1]", "[0,1)", False),
        ("(1, \\frac{9}{2})", "(1, 4.5)", True),
        ("(4.5, 1)", "(1, 4.5)", False),
        ("2:4", "1:2", True),
        ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}", True),
        ("\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}", "\\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}", False),
        ("x^2-1", "(x-1)(x+1)", True),
        ("x^2+1", "(x-1)(x+1)", False),
        ("\u22123", "-3", True),
        ("3", "-3", False),
        ("90^\\circ", "90", True),
        ("1 and 2 and 3", "\\{1, 2, 3\\}", True),
        ("y = 2x + 1", "2x + 1", True),
        ("x \\in [-2, 7]", "-2 \\le x \\le 7", True),
        ("\\infty", "\\infty", True),
        ("", "1", False),
        ("1", "", False),
    ],
)
def test_generic_equivalence(pred: str, gold: str, same: bool) -> None:
    assert equivalent(pred, gold) is same


def test_equivalent_never_raises_on_odd_types() -> None:
    assert equivalent(None, "1") is False  # type: ignore[arg-type]
    assert equivalent("1", 1) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("s", ["10^{10^{10}}", "2^{2^{2^{30}}}", "9" * 400, "100000!", "\\binom{10^{9}}{5}"])
def test_too_complex(s: str) -> None:
    assert too_complex(s)


@pytest.mark.parametrize("s", ["2^{10}", "x^{2}+1", "e^{x^2}", "10!", "\\binom{10}{3}", "2^{2^{3}}"])
def test_not_too_complex(s: str) -> None:
    assert too_complex(s) is None


@pytest.mark.parametrize(
    "pred,gold,problem,strict,official",
    [
        ("2.9", "2", make_problem("mathvista", "2", answer_type="integer"), False, True),
        ("[2014,2016]", "[2014, 2016]", make_problem("mathvista", "[2014, 2016]", answer_type="list"), True, False),
        ("nothing", "No", make_problem("mathvista", "No", question_type="multi_choice", answer_type="text",
                                       choices=("Yes", "No")), False, True),
        ("\\frac{16}{7}", "$\\boxed{\\frac{16}{7}}$", make_problem("mathvision", "$\\boxed{\\frac{16}{7}}$"),
         True, False),
        ("MgSO4", "MgS", make_problem("mmmu", "MgS", answer_type="text"), False, True),
        ("\\boxed{A}", "A", make_problem("wemath", "A", question_type="multi_choice", answer_type="text",
                                         choices=("1", "2")), True, False),
        ("C, A", "A, C", make_problem("logicvista", "A, C", question_type="multi_choice", answer_type="text"),
         True, True),
        ("Yes", "Yes, it is", make_problem("dynamath", "Yes, it is", answer_type="text"), False, True),
        ("60°", "B", make_problem("mathverse", "B", question_type="multi_choice", answer_type="text",
                                  question="Choices:\nA:40°\nB:60°"), True, True),
    ],
)
def test_equivalent_in_both_modes(pred: str, gold: str, problem, strict: bool, official: bool) -> None:
    assert equivalent(pred, gold, problem) is strict
    assert equivalent(pred, gold, problem, rules="official") is official


def test_find_boxes_ignores_other_commands_and_escaped_braces() -> None:
    from tts.grading.text import find_boxes

    text = "\\dfrac{1}{2} \\x \\{ \\boxed{\\dfrac{3}{4}} \\} \\\\boxed{5} \\boxed 7."
    assert [c for _, _, c in find_boxes(text)] == ["\\dfrac{3}{4}", "5", "7"]
    assert find_boxes("\\boxed{" * 3000) == []
