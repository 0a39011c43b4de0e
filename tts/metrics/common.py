"""Shared pieces of the benchmark metrics: per-problem hit arrays and grouped accuracies (numpy).

Every metric takes the problems of one benchmark and ``correct`` (problem id → bool). A problem with no
verdict in ``correct`` counts as wrong, as an unanswered question does in the official scorers, and is
reported in ``n_missing``. Accuracies are percentages, like the seeds' table.

A headline ``score`` that rests on partial data (missing verdicts, DynaMath seeds without their ten
variants, WeMath problems without their sub-questions) comes with ``"warning"``: one sentence with the
reason, which every report prints beside the number (:func:`add_warning`).

Example:
    >>> import numpy as np
    >>> grouped_accuracy(["a", "b", "a", "a"], np.array([True, False, False, True]))
    {'a': {'n': 3, 'correct': 2, 'acc': 66.66666666666667}, 'b': {'n': 1, 'correct': 0, 'acc': 0.0}}
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from tts.records import Problem


def hits(problems: Sequence[Problem], correct: Mapping[str, bool]) -> tuple[np.ndarray, int]:
    """``(hit array aligned with problems, number of problems without a verdict)``."""
    values = [correct.get(p.id) for p in problems]
    missing = sum(v is None for v in values)
    return np.fromiter((bool(v) for v in values), dtype=bool, count=len(values)), missing


def percent(n_correct: float, n: int) -> float | None:
    return 100.0 * float(n_correct) / n if n else None


def grouped_accuracy(keys: Sequence[Hashable], hit: np.ndarray) -> dict[str, dict[str, Any]]:
    """Accuracy per distinct key (``None`` keys are dropped), keys in sorted order."""
    keep = np.array([k is not None for k in keys], dtype=bool)
    if not keep.any():
        return {}
    labels = np.array([str(k) for k, ok in zip(keys, keep, strict=True) if ok])
    uniq, inverse = np.unique(labels, return_inverse=True)
    n = np.bincount(inverse, minlength=len(uniq))
    c = np.bincount(inverse, weights=hit[keep].astype(float), minlength=len(uniq))
    return {str(u): {"n": int(ni), "correct": int(ci), "acc": percent(ci, int(ni))} for u, ni, ci in zip(uniq, n, c, strict=True)}


def multi_grouped_accuracy(keys: Sequence[Sequence[Hashable] | None], hit: np.ndarray) -> dict[str, dict[str, Any]]:
    """Accuracy per label when each problem carries several labels (MathVista ``skills``)."""
    flat_keys, flat_hits = [], []
    for labels, h in zip(keys, hit, strict=True):
        for label in labels or ():
            flat_keys.append(label)
            flat_hits.append(h)
    return grouped_accuracy(flat_keys, np.array(flat_hits, dtype=bool))


def add_warning(metric: dict[str, Any], message: str | None) -> dict[str, Any]:
    """Append ``message`` to the metric's ``"warning"`` (sentences joined by ``"; "``); ``None`` is a no-op.

    >>> add_warning(add_warning({"score": 50.0}, "a"), "b")["warning"]
    'a; b'
    """
    if message:
        metric["warning"] = f"{metric['warning']}; {message}" if metric.get("warning") else message
    return metric


def missing_warning(missing: int, n: int) -> str | None:
    """The warning of verdicts missing from ``correct`` (they count as wrong)."""
    return f"{missing} of {n} problems have no verdict (counted wrong)" if missing else None


def accuracy_summary(problems: Sequence[Problem], correct: Mapping[str, bool]) -> tuple[dict[str, Any], np.ndarray]:
    """The common head of every metric dict, and the hit array."""
    hit, missing = hits(problems, correct)
    n_correct = int(hit.sum())
    out = {"score": percent(n_correct, len(problems)), "n": len(problems), "n_correct": n_correct,
           "n_missing": missing}
    return add_warning(out, missing_warning(missing, len(problems))), hit
