"""Is an answer too big for SymPy? Decided from the string alone, in linear time, before any parsing.

SymPy evaluates what it parses: ``9!!!!!!!`` is a factorial of a factorial of ..., ``((81!)!)!`` or
``(((40)^41)^14)^95`` have more digits than atoms in the universe, and a worker computing them only stops
at its timeout (seconds per answer, so 2,000 hostile answers took minutes). These checks bound what may
reach the parser instead: the size of literals and of the results they imply (``b^e`` by its digit count
``e·log10 b``), factorials (of large numbers, of factorials, in exponents, stacked ``!!!``), the nesting
depth of powers (``x^{x^{x}}``) and of brackets, big operators over huge ranges (``\\prod_{k=1}^{10^9}``),
and TeX macro machinery (``\\def``), which has no place in an answer.

Example:
    >>> too_complex("9!!!!!!!"), too_complex("((81!)!)!"), too_complex("(((40)^41)^14)^95")
    ('a factorial tower', 'a factorial tower', 'a power tower')
    >>> too_complex("\\\\frac{(n-1)!}{2}") is None, too_complex("2^{2^{3}}") is None, too_complex("10!") is None
    (True, True, True)
"""

from __future__ import annotations

import math
import re

MAX_ANSWER_CHARS = 600
MAX_DIGITS = 300
MAX_EXPONENT = 10**5
MAX_RESULT_DIGITS = 10**4
MAX_FACTORIAL = 2000
MAX_DOUBLE_FACTORIAL = 5  # parsers read n!! as (n!)!: 5!! is 120!, 6!! already 720!
MAX_GROUP_FACTORIAL = 100
MAX_POWER_DEPTH = 2
MAX_NESTING = 40
MAX_RANGE = 1000

_LONG_NUMBER = re.compile(rf"\d{{{MAX_DIGITS + 1},}}")
_POWER = re.compile(r"(?:\^|\*\*)\s*\{?\s*\(?\s*([+-]?\d+)")
_TOWER = re.compile(r"(\d+)\s*(?:\^|\*\*)\s*\{?\s*\(?\s*(\d+)\s*\)?\s*(?:\^|\*\*)\s*\{?\s*\(?\s*(\d+)")
_NUMERIC_POWER = re.compile(r"(\d+(?:\.\d+)?)\s*\)?\s*(?:\^|\*\*)\s*\{?\s*\(?\s*(\d+)(?![\d.])")
_FACTORIAL = re.compile(r"(\d+)\s*(!+)")
_FACTORIAL_OF_GROUP = re.compile(r"[)}\]]\s*!")
_FACTORIAL_IN_EXPONENT = re.compile(r"(?:\^|\*\*)\s*(?:\{[^{}]*!|\(?\s*\d+\s*!)")
_BINOM = re.compile(r"\\[dt]?binom\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_BIG_OPERATOR = re.compile(r"\\(?:sum|prod|int|iint|iiint|oint|lim|bigcup|bigcap)(?![A-Za-z])")
_MACROS = re.compile(
    r"\\(?:def|edef|gdef|xdef|newcommand|renewcommand|providecommand|let|catcode|input|include|write|"
    r"immediate|csname|expandafter|loop|repeat|read|openin|openout)\b"
)
_INTEGER = re.compile(r"\d+")
_TOKEN = re.compile(r"\\[A-Za-z]+|\*\*|\d+(?:\.\d+)?|[A-Za-z]|.", re.DOTALL)
_OPEN = {"(": ")", "[": "]", "{": "}"}


def power_depth(s: str) -> int:
    """How deeply powers nest: ``x^2`` is 1, ``e^{x^2}``, ``(2^3)^4`` and ``x^{x^{x}}`` are 2, ``x^{x^{x^{x}}}`` is 3.

    One pass over the tokens with a stack of bracket frames; a bracket group is an atom whose depth is the
    deepest power inside it, and ``base^exponent`` has the depth of the deeper of the two plus one.
    """
    stack: list[list[int]] = [[0, 0]]  # per frame: [depth of the last atom, deepest depth in the frame]
    pending: list[int | None] = [None]  # per frame: depth of a base waiting for its exponent
    deepest = 0

    def atom(depth: int) -> None:
        nonlocal deepest
        base = pending[-1]
        if base is not None:
            depth = max(base, depth) + 1
            pending[-1] = None
        stack[-1][0] = depth
        stack[-1][1] = max(stack[-1][1], depth)
        deepest = max(deepest, depth)

    for tok in _TOKEN.findall(s):
        if tok in _OPEN:
            stack.append([0, 0])
            pending.append(None)
        elif tok in (")", "]", "}"):
            if len(stack) > 1:
                inner = stack.pop()[1]
                pending.pop()
                atom(inner)
        elif tok in ("^", "**"):
            pending[-1] = stack[-1][0]
        elif tok.isspace():
            continue
        elif tok[0].isalnum() or tok.startswith("\\"):
            atom(0)
        else:
            stack[-1][0] = 0
            pending[-1] = None
    return deepest


def _group_before(s: str, end: int) -> str:
    """The content of the bracket group that closes at ``s[end]`` (scanning back to its opening bracket)."""
    depth = 0
    for i in range(end, -1, -1):
        if s[i] in ")]}":
            depth += 1
        elif s[i] in "([{":
            depth -= 1
            if depth == 0:
                return s[i + 1 : end]
    return s[:end]


def _huge_factorial_of_group(s: str) -> bool:
    """``(81!)!``, ``(2^{10})!``: a factorial of a group that holds a factorial, a power or a big number."""
    for m in _FACTORIAL_OF_GROUP.finditer(s):
        inner = _group_before(s, m.start())
        if "!" in inner or "^" in inner or any(int(d) > MAX_GROUP_FACTORIAL for d in _INTEGER.findall(inner)):
            return True
    return False


def _nesting(s: str) -> int:
    depth = deepest = 0
    for c in s:
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}" and depth:
            depth -= 1
    return deepest


def too_complex(s: str, limit: int = MAX_ANSWER_CHARS) -> str | None:
    """Why ``s`` must not reach SymPy (see the module docstring), or None when it may."""
    if len(s) > limit:
        return f"longer than {limit} characters"
    if _LONG_NUMBER.search(s):
        return f"a number with more than {MAX_DIGITS} digits"
    if _MACROS.search(s):
        return "a TeX macro definition"
    if _nesting(s) > MAX_NESTING:
        return "brackets nested too deeply"
    if "!" in s:
        if s.count("!") > 4 or _FACTORIAL_IN_EXPONENT.search(s) or _huge_factorial_of_group(s):
            return "a factorial tower"
        for m in _FACTORIAL.finditer(s):
            n, bangs = int(m.group(1)), len(m.group(2))
            if bangs > 2 or (bangs == 2 and n > MAX_DOUBLE_FACTORIAL):
                return "a factorial tower"
            if n > MAX_FACTORIAL:
                return "a huge factorial"
    if "^" in s or "**" in s:
        for m in _POWER.finditer(s):
            if abs(int(m.group(1))) > MAX_EXPONENT:
                return "an exponent above 10^5"
        for m in _TOWER.finditer(s):
            b, c = int(m.group(2)), int(m.group(3))
            if b > 1 and c * math.log10(b) > 4:
                return "a power tower"
        for m in _NUMERIC_POWER.finditer(s):
            base, exp = float(m.group(1)), int(m.group(2))
            if base > 1 and exp * math.log10(base) > MAX_RESULT_DIGITS:
                return "a power with a huge result"
        if power_depth(s) > MAX_POWER_DEPTH:
            return "a power tower"
    for m in _BINOM.finditer(s):
        top = m.group(1)
        if "^" in top or any(int(d) > MAX_FACTORIAL for d in _INTEGER.findall(top)):
            return "a huge binomial"
    if _BIG_OPERATOR.search(s):
        if any(int(d) > MAX_RANGE for d in _INTEGER.findall(s)) or power_depth(s) > 1:
            return "a big operator over a huge range"
    return None
