"""Per-benchmark comparison rules in strict mode: which numeric tolerance, what a gold means.

A :class:`Rule` is everything about a problem that changes a verdict; it is hashable, so verdicts can be
cached per ``(pred, gold, rule)``. The benchmark facts come from each benchmark's official scorer:

- Any problem with a ``precision`` (MathVista float answers): numbers compared after rounding both to it.
- Integer answers by value: 2.9 is not 2 (unlike MathVista's official ``int()``).
- MathVista: multiple-choice golds are option *texts*.
- DynaMath: float answers within an absolute 1e-3.
- MathVision, MMMU, MathVerse, WeMath, LogicVista: golds are letters for multiple choice; LogicVista
  golds may name several letters ("A, C"), compared as sets.
- Anything else (or no benchmark): generic math equivalence, ``answer_type`` "expression".

Example:
    >>> from tts.records import Problem
    >>> rule_for(Problem(id="1", benchmark="dynamath", split="s", question="q", answer="1.5",
    ...                  answer_type="float")).abs_tol
    Fraction(1, 1000)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from tts.grading.choice import option_count
from tts.grading.extract import problem_options
from tts.records import ANSWER_TYPES, AnswerType, Problem, QuestionType

BENCHMARKS = ("mathvista", "mathvision", "mmmu", "mathverse", "dynamath", "wemath", "logicvista")


@dataclass(frozen=True)
class Rule:
    """How to compare one prediction with one gold for a problem (strict mode)."""

    benchmark: str = "generic"
    multi_choice: bool = False
    answer_type: str = "expression"
    options: tuple[str, ...] = ()
    n_options: int = 0
    gold_is_text: bool = False
    precision: int | None = None
    abs_tol: Fraction | None = None
    integer: bool = False


GENERIC = Rule()


def _benchmark_name(problem: Problem) -> str:
    return (problem.benchmark or "").strip().lower()


@lru_cache(maxsize=65536)
def _rule(
    benchmark: str, question_type: QuestionType, answer_type: AnswerType, precision: int | None,
    choices: tuple[str, ...], question: str,
) -> Rule:
    multi_choice = question_type == "multi_choice"
    if answer_type not in ANSWER_TYPES:
        answer_type = "expression"
    probe = Problem(id="rule", benchmark=benchmark, split="", question=question, choices=choices,
                    question_type=question_type, answer_type=answer_type)
    options = problem_options(probe) if multi_choice else ()
    n_options = option_count(choices, options) if multi_choice else 0
    kwargs: dict = {}
    if answer_type == "integer":
        kwargs["integer"] = True
    elif precision is not None and not multi_choice:
        kwargs["precision"] = int(precision)
    if benchmark == "mathvista":
        kwargs["gold_is_text"] = multi_choice
    elif benchmark == "dynamath" and answer_type == "float":
        kwargs["abs_tol"] = Fraction(1, 1000)
    return Rule(benchmark=benchmark or "generic", multi_choice=multi_choice, answer_type=answer_type,
                options=options, n_options=n_options, **kwargs)


def rule_for(problem: Problem | None) -> Rule:
    """The strict comparison rule of ``problem`` (the generic rule when there is no problem)."""
    if problem is None:
        return GENERIC
    multi_choice = problem.question_type == "multi_choice"
    # The question text only matters when options have to be read from it.
    question = problem.question if multi_choice and not problem.choices else ""
    return _rule(_benchmark_name(problem), problem.question_type, problem.answer_type, problem.precision,
                 tuple(problem.choices), question)
