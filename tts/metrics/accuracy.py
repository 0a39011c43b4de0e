"""Accuracy-style official metrics: MathVista, MMMU, MATH-Vision, MathVerse, LogicVista (and plain accuracy).

Each returns ``{"score": accuracy %, "n", "n_correct", "n_missing", "by_<field>": {...}}`` with the
breakdowns the official evaluations print.

Example:
    >>> from tts.records import Problem
    >>> ps = [Problem(id=f"p{i}", benchmark="mmmu", split="validation", question="?",
    ...               meta={"subject": s, "discipline": "Science"}) for i, s in enumerate(["Math", "Math", "Physics"])]
    >>> m = mmmu_metrics(ps, {"p0": True, "p1": False, "p2": True})
    >>> round(m["score"], 2), m["by_discipline"]["Science"]["acc"] == m["score"]
    (66.67, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tts.metrics.common import accuracy_summary, grouped_accuracy, multi_grouped_accuracy
from tts.records import Problem

#: MathVista ``calculate_score.py`` breakdown fields (``skills`` is multi-valued).
MATHVISTA_META_FIELDS = ("language", "source", "category", "task", "context", "grade")


def accuracy_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Plain accuracy (the bundled demo, and any benchmark without an official breakdown)."""
    return accuracy_summary(problems, correct)[0]


def mathvista_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Accuracy, by question/answer type, by each metadata field and by skill (official breakdowns)."""
    out, hit = accuracy_summary(problems, correct)
    out["by_question_type"] = grouped_accuracy([p.question_type for p in problems], hit)
    out["by_answer_type"] = grouped_accuracy([p.answer_type for p in problems], hit)
    metadata = [p.meta.get("metadata") or {} for p in problems]
    for name in MATHVISTA_META_FIELDS:
        out[f"by_{name}"] = grouped_accuracy([m.get(name) for m in metadata], hit)
    out["by_skills"] = multi_grouped_accuracy([m.get("skills") for m in metadata], hit)
    return out


def mmmu_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Overall and per-discipline accuracy, instance-weighted over subjects (``calculate_ins_level_acc``)."""
    out, hit = accuracy_summary(problems, correct)
    out["by_subject"] = grouped_accuracy([p.meta.get("subject") for p in problems], hit)
    out["by_discipline"] = grouped_accuracy([p.meta.get("discipline") for p in problems], hit)
    out["by_question_type"] = grouped_accuracy([p.question_type for p in problems], hit)
    return out


def mathvision_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Accuracy, by subject and by level (1-5)."""
    out, hit = accuracy_summary(problems, correct)
    out["by_subject"] = grouped_accuracy([p.meta.get("subject") for p in problems], hit)
    out["by_level"] = grouped_accuracy([p.meta.get("level") for p in problems], hit)
    return out


def mathverse_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Accuracy over the loaded versions (Vision Only by default), by version, subject and subfield."""
    out, hit = accuracy_summary(problems, correct)
    out["by_problem_version"] = grouped_accuracy([p.meta.get("problem_version") for p in problems], hit)
    metadata = [p.meta.get("metadata") or {} for p in problems]
    out["by_subject"] = grouped_accuracy([m.get("subject") for m in metadata], hit)
    out["by_subfield"] = grouped_accuracy([m.get("subfield") for m in metadata], hit)
    return out


def logicvista_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Accuracy, and by reasoning skill when the copy provides one."""
    out, hit = accuracy_summary(problems, correct)
    skills = [p.meta.get("skill") for p in problems]
    skills = [s if isinstance(s, list | tuple) or s is None else [s] for s in skills]
    out["by_skill"] = multi_grouped_accuracy(skills, hit)
    return out
