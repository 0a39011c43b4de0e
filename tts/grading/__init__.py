"""Answer grading: extraction, math-aware equivalence, and each benchmark's official rules.

``strict`` (default) gives the verdict a careful human grader would give; ``official`` reproduces each
benchmark's published rule-based scorer, quirks included, so numbers can be compared with published ones.
Model output is untrusted: no ``eval``, no ``sympify`` of raw strings, SymPy only inside bounded worker
processes (:mod:`tts.grading.sandbox`). Importing this package does not import SymPy or math-verify.

Modules, in their layers (each imports only from the layers before it; a test checks every import):

- strings: :mod:`~tts.grading.text` (clean-up), :mod:`~tts.grading.complexity` (what SymPy may see),
  :mod:`~tts.grading.units` (pint), :mod:`~tts.grading.words` (number words), :mod:`~tts.grading.numeric`
  (plain numbers), :mod:`~tts.grading.bearings`, :mod:`~tts.grading.qualifiers`, :mod:`~tts.grading.choice`
  (letters/options), :mod:`~tts.grading.prose` (what a last sentence states), :mod:`~tts.grading.commitments`
  (which option letters it commits to), :mod:`~tts.grading.statements` ("Answer:" lines, tags, JSON);
- bounded SymPy: :mod:`~tts.grading.symbolic_ops`, :mod:`~tts.grading.sandbox`, :mod:`~tts.grading.runners`,
  :mod:`~tts.grading.symbolic`;
- :mod:`~tts.grading.extract`, :mod:`~tts.grading.rules`; :mod:`~tts.grading.equivalence`;
  :mod:`~tts.grading.official`; :mod:`~tts.grading.grader` (one response); :mod:`~tts.grading.pool` (many, in
  worker processes); :mod:`~tts.grading.cluster`; :mod:`~tts.grading.sources` and :mod:`~tts.grading.files`
  (``tts grade FILE``).

:mod:`~tts.grading.worker` is the worker processes' entry point, which nothing imports.

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
