"""The SymPy-side operations a worker runs: math-verify parse + verify, numeric values, answer extraction.

Only :mod:`tts.grading.worker` (and a worker's in-process grading) imports this module; the parent reaches
it through :mod:`tts.grading.symbolic`, which caps input sizes first. math-verify's own timeouts are turned
off (``parsing_timeout=None``, ``timeout_seconds=None``): the worker's interval timer and the parent's kill
bound every call instead. Strings reach SymPy only through math-verify's LaTeX/expression parsers, never
through ``sympify`` or ``eval``.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from typing import Any

logging.getLogger("math_verify").setLevel(logging.CRITICAL)
logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)

_DELIMITED = re.compile(r"\\boxed|\$|\\\(|\\\[")


@lru_cache(maxsize=1)
def _configs() -> tuple[Any, ...]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    return (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())


def _wrap(answer: str) -> str:
    """An answer string as math-verify expects it: inside an environment (``\\boxed{}``) unless it has one."""
    return answer if _DELIMITED.search(answer) else "\\boxed{" + answer + "}"


@lru_cache(maxsize=4096)
def parse_answer(answer: str) -> tuple[Any, ...]:
    """math-verify's parse of one answer string, tried as ``\\boxed{...}``, then as ``$...$``."""
    from math_verify import parse

    found = parse(_wrap(answer), list(_configs()), parsing_timeout=None)
    if not any(not isinstance(x, str) for x in found) and not _DELIMITED.search(answer):
        again = parse("$" + answer + "$", list(_configs()), parsing_timeout=None)
        if any(not isinstance(x, str) for x in again):
            found = again
    return tuple(found)


def verify(gold: str, pred: str, float_rounding: int = 6, strict: bool = True, set_relation: bool = True) -> bool:
    """math-verify's verdict, gold first, on two answer strings.

    ``set_relation`` (on by default) lets "x ∈ [-2, 7]" equal "-2 ≤ x ≤ 7" in either order: the same
    statement, which math-verify only accepts with the gold as the inequality unless asked.
    """
    from math_verify import verify as mv_verify

    g = list(parse_answer(gold))
    p = list(parse_answer(pred))
    if not g or not p:
        return False
    return bool(
        mv_verify(
            g, p, float_rounding=int(float_rounding), strict=bool(strict),
            allow_set_relation_comp=bool(set_relation), timeout_seconds=None,
        )
    )


def _numeric(expr: Any) -> str | None:
    import sympy

    if isinstance(expr, sympy.Eq) and isinstance(expr.lhs, sympy.Symbol):
        expr = expr.rhs
    if not isinstance(expr, sympy.Expr) or expr.free_symbols:
        return None
    value = sympy.N(expr, 30)
    if not value.is_real or not value.is_finite:
        return None
    return str(value)


def numeric_value(answer: str) -> str | None:
    """The value of a closed-form answer ("\\frac{\\sqrt{2}}{2}", "2\\pi") as a decimal string, else None."""
    for expr in parse_answer(answer):
        if isinstance(expr, str):
            continue
        out = _numeric(expr)
        if out is not None:
            return out
    return None


def extract(response: str) -> str | None:
    """math-verify's own extraction from a free-text response (LaTeX environments, expressions), as LaTeX.

    The matched text is returned when it parses back to the same object; otherwise the object is written
    with ``sympy.latex`` (so "$1$ and $2$" becomes ``\\left\\{1, 2\\right\\}``), which re-parses to it.
    """
    import sympy
    from math_verify import parse

    found = parse(response, list(_configs()), parsing_timeout=None)
    strings = [x for x in found if isinstance(x, str) and x.strip()]
    for expr in found:
        if isinstance(expr, str):
            continue
        for text in strings:
            again = parse_answer(text)
            if again and not isinstance(again[0], str) and again[0] == expr:
                return text
        try:
            return sympy.latex(expr)
        except Exception:  # noqa: BLE001 - printing an odd object must not fail the extraction
            continue
    return strings[0] if strings else None


_MATH_NAMES = frozenset(n for n in dir(math) if not n.startswith("_"))
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def mathvision_value(latex: str) -> list[Any] | None:
    """MATH-V's numeric reading of an answer, without ``eval``: ``[is_int, value]``, or None when it fails.

    The official scorer runs Python's ``eval`` on ``str(latex2sympy(x))``.

    The official scorer evaluates SymPy's printed form with ``from math import *`` in scope, so it succeeds
    exactly when every name in that printed form is a ``math`` name; the value is then SymPy's numeric value.
    """
    import sympy
    from latex2sympy2_extended import latex2sympy

    try:
        # No normalisation layer: the official scorer's latex2sympy2 had none (``$`` or ``\\boxed`` fail there).
        expr = latex2sympy(latex, normalization_config=None)
    except Exception:  # noqa: BLE001 - any parser failure is the official "except: False"
        return None
    printed = str(expr)
    if any(name not in _MATH_NAMES for name in _IDENT.findall(printed)):
        return None
    if isinstance(expr, sympy.Integer):
        return [True, int(expr)]
    if not isinstance(expr, sympy.Expr) or expr.free_symbols:
        return None
    value = sympy.N(expr, 17)
    if not value.is_real or not value.is_finite:
        return None
    return [False, float(value)]


OPS: dict[str, Any] = {
    "verify": verify,
    "numeric_value": numeric_value,
    "extract": extract,
    "mathvision_value": mathvision_value,
}


def warm_up() -> None:
    """Import and exercise the parsers once so the first real request is not slowed by imports."""
    verify("\\frac{1}{2}", "0.5")
