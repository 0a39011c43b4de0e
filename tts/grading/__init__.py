"""Answer grading: extraction, math-aware equivalence, and each benchmark's official rules.

``strict`` (default) gives the verdict a careful human grader would give; ``official`` reproduces each
benchmark's published rule-based scorer, quirks included, so numbers can be compared with published ones.
Model output is untrusted: no ``eval``, no ``sympify`` of raw strings, SymPy only inside bounded worker
processes (:mod:`tts.grading.sandbox`). Importing this package does not import SymPy or math-verify.

Modules: :mod:`~tts.grading.text` (clean-up), :mod:`~tts.grading.numeric` (plain numbers),
:mod:`~tts.grading.choice` (letters/options), :mod:`~tts.grading.extract`, :mod:`~tts.grading.rules`,
:mod:`~tts.grading.equivalence`, :mod:`~tts.grading.symbolic` (+ ``runners``, ``sandbox``, ``symbolic_ops``),
:mod:`~tts.grading.official`, :mod:`~tts.grading.grader`, :mod:`~tts.grading.cluster`,
:mod:`~tts.grading.files` (``tts grade``). Each imports only from the ones before it (the layers, bottom
up: text, numeric, choice; symbolic_ops, sandbox, runners, symbolic; extract, rules; equivalence; official;
grader; pool; cluster, files); :mod:`~tts.grading.worker` is the worker processes' entry point, which nothing
imports.

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="7", benchmark="dynamath", split="sample_variant1", question="q", answer="2.718",
    ...             answer_type="float")
    >>> grade("... so e ≈ 2.7183.\\nAnswer: \\\\boxed{2.7183}", p).correct
    True
    >>> equivalent("50%", "0.5"), equivalent("C, A", "A, C", Problem(id="x", benchmark="logicvista",
    ...     split="test", question="q", answer="A, C", question_type="multi_choice", answer_type="text"))
    (True, True)
"""

from __future__ import annotations

from tts.grading.cluster import cluster_answers
from tts.grading.equivalence import Verdict, judge
from tts.grading.extract import Extraction, extract_answer
from tts.grading.files import GradeReport, grade_file
from tts.grading.grader import equivalent, grade
from tts.grading.official import official_fallback_note
from tts.grading.pool import Grader, grade_many
from tts.grading.rules import Rule, rule_for

__all__ = [
    "Extraction",
    "GradeReport",
    "Grader",
    "Rule",
    "Verdict",
    "cluster_answers",
    "equivalent",
    "extract_answer",
    "grade",
    "grade_file",
    "grade_many",
    "judge",
    "official_fallback_note",
    "rule_for",
]
