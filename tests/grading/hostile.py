"""A generator of hostile model answers: what a broken or adversarial policy may emit.

Kinds: factorial towers (``9!!!!!!!``, ``(9!)!``), towers and chains of powers, huge literals and
results, deep nesting of brackets and fractions, long noise, TeX macro loops (``\\def``), code payloads,
big sums/products/integrals/limits, huge binomials and matrices. Each answer comes wrapped the way a
response ends (``Answer: \\boxed{...}``) or bare, against a benchmark-shaped problem.
"""

from __future__ import annotations

import random
import string

from grading_helpers import make_problem

from tts.records import Problem

PROBLEMS = [
    make_problem("generic", "1"),
    make_problem("mathvision", "\\frac{1}{2}"),
    make_problem("mathvista", "2", answer_type="integer"),
    make_problem("dynamath", "2.5", answer_type="float"),
    make_problem("mmmu", ("24/7", "3.429"), answer_type="text"),
    make_problem("mathverse", "B", question_type="multi_choice", answer_type="text",
                 question="Choices:\nA:1\nB:2\nC:3\nD:4"),
]


def _factorial_tower(rng: random.Random) -> str:
    n = rng.randint(3, 99)
    k = rng.randint(1, 4)
    return rng.choice([
        f"{n}" + "!" * rng.randint(2, 12),
        "(" * k + f"{n}!" + ")!" * k,
        f"({n}!)^{{{rng.randint(2, 9)}!}}",
        f"\\frac{{({n}!)!}}{{{n}!}}",
        f"{n}!!!! - {n}!!!",
    ])


def _power_tower(rng: random.Random) -> str:
    depth = rng.randint(3, 12)
    base = rng.randint(2, 99)
    return rng.choice([
        "^".join([str(base)] * depth),
        f"{base}" + "".join("^{" + str(rng.randint(2, 9)) for _ in range(depth)) + "}" * depth,
        "(" * depth + str(base) + "".join(f")^{rng.randint(2, 99)}" for _ in range(depth)),
        f"{base}^{{{base}^{{{base}}}}}",
        f"x^{{x^{{x^{{x^{{{base}}}}}}}}}",
        f"e^{{e^{{e^{{{base}}}}}}}",
        f"{base}**{base}**{base}",
    ])


def _huge(rng: random.Random) -> str:
    return rng.choice([
        "9" * rng.randint(100, 5000),
        f"10^{{{rng.randint(10**5, 10**12)}}}",
        f"{rng.randint(10**5, 10**9)}^{{{rng.randint(10**4, 10**6)}}}",
        f"\\binom{{{rng.randint(10**4, 10**9)}}}{{{rng.randint(10**3, 10**6)}}}",
        f"{rng.randint(2, 9)}^{{{rng.randint(1000, 99999)}}} \\cdot {rng.randint(2, 9)}^{{{rng.randint(1000, 99999)}}}",
        "*".join(str(rng.randint(10**8, 10**9)) for _ in range(rng.randint(50, 200))),
        f"\\sum_{{k=1}}^{{{rng.randint(10**6, 10**12)}}} k^{{{rng.randint(2, 50)}}}",
        f"\\prod_{{k=1}}^{{{rng.randint(10**4, 10**9)}}} k",
        f"\\int_0^{{{rng.randint(10, 10**6)}}} x^{{{rng.randint(100, 10**5)}}} e^{{-x}} dx",
        f"\\lim_{{n\\to\\infty}} (1+1/n)^{{n^{{{rng.randint(2, 99)}}}}}",
        f"({rng.randint(2, 9)}.{rng.randint(1, 99)})^{{{rng.randint(10**5, 10**9)}}}",
        f"\\sqrt[{rng.randint(10**4, 10**9)}]{{{rng.randint(2, 99)}}}",
    ])


def _nesting(rng: random.Random) -> str:
    depth = rng.randint(50, 2000)
    return rng.choice([
        "(" * depth + "1" + ")" * depth,
        "\\frac{" * depth + "1" + "}{2}" * depth,
        "\\sqrt{" * depth + "2" + "}" * depth,
        "{" * depth + "x" + "}" * depth,
        "[" * depth + "1",
        "\\left(" * depth + "x" + "\\right)" * depth,
        "-" * depth + "1",
        "1+" * depth + "1",
    ])


def _noise(rng: random.Random) -> str:
    n = rng.randint(5000, 20000)
    alphabet = string.printable + "αβγ√π∞≤≥°²³½∑∫"
    return rng.choice([
        "".join(rng.choice(alphabet) for _ in range(n)),
        "\\boxed{" * (n // 10),
        ("Answer: " + "".join(rng.choice("ABCD0123456789 ,.") for _ in range(20)) + "\n") * (n // 30),
        "$" * n,
        "\\\\" * n,
        " ".join(rng.choice(["the", "answer", "is", "so", "B", "1", "or", "and"]) for _ in range(n // 4)),
    ])


def _macro(rng: random.Random) -> str:
    return rng.choice([
        "\\def\\a{\\a\\a}\\a",
        "\\def\\x{\\x}\\x",
        "\\newcommand{\\f}{\\f\\f}\\f",
        "\\def\\b#1{\\b{#1#1}}\\b{1}",
        "\\input{/etc/passwd}",
        "\\include{/dev/zero}",
        "\\write18{rm -rf /}",
        "\\catcode`\\{=12 {" * 50,
    ])


def _code(rng: random.Random) -> str:
    return rng.choice([
        "__import__('os').system('echo pwned')",
        "exec(\"import os; os.remove('x')\")",
        "eval('1'*10**9)",
        "lambda: [x for x in iter(int, 1)]",
        "(lambda f: f(f))(lambda f: f(f))",
        "'\\x00' * 10**10",
        "sympy.factorial(10**10)",
        "open('/dev/zero').read()",
        "Symbol('x')**(10**10)",
        "Matrix(1000, 1000, lambda i, j: i*j).det()",
    ])


def _matrix(rng: random.Random) -> str:
    n = rng.randint(20, 60)
    rows = " \\\\ ".join(" & ".join(str(rng.randint(-99, 99)) + "x" for _ in range(n)) for _ in range(n))
    return "\\begin{pmatrix}" + rows + "\\end{pmatrix}"


KINDS = [_factorial_tower, _power_tower, _huge, _nesting, _noise, _macro, _code, _matrix]


def hostile_items(n: int, seed: int = 0) -> list[tuple[str, Problem, int]]:
    """``n`` hostile ``(response, problem, sample_idx)`` items, every kind equally often."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        payload = KINDS[i % len(KINDS)](rng)
        response = rng.choice([
            f"After a long computation the value is {payload}.\nAnswer: \\boxed{{{payload}}}",
            payload,
            f"The answer is ${payload}$",
            f"Answer: {payload}",
        ])
        items.append((response, PROBLEMS[i % len(PROBLEMS)], i))
    return items
