"""DynaMath: average-case accuracy over all variants and worst-case accuracy over seed questions.

Worst case (the seeds' table number): a seed question counts only if *every* one of its variants is
answered correctly (VLMEvalKit: the product of ``correct`` over the 10 variants sharing a ``qid``). Seeds
with fewer than ten loaded variants (a single-variant split, ``--limit``, or a skipped bad row) are judged
on the variants present and counted in ``n_incomplete_seeds``; the metric then carries a ``warning``
saying so, because such a worst case is optimistic (a seed with fewer variants is easier to solve in
every variant) and not comparable with the published number.

Example:
    >>> from tts.records import Problem
    >>> ps = [Problem(id=f"{q}-{v}", benchmark="dynamath", split=f"sample_variant{v}", question="?",
    ...               meta={"qid": q, "variant": v}) for q in ("1", "2") for v in (1, 2)]
    >>> m = dynamath_metrics(ps, {"1-1": True, "1-2": True, "2-1": True, "2-2": False})
    >>> m["average_case"], m["worst_case"], m["score"]
    (75.0, 50.0, 50.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tts.metrics.common import accuracy_summary, add_warning, grouped_accuracy, percent
from tts.records import Problem

N_VARIANTS = 10


def dynamath_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    out, hit = accuracy_summary(problems, correct)
    out["average_case"] = out["score"]
    qids = np.array([str(p.meta.get("qid", p.id)) for p in problems])
    if len(problems):
        seeds, inverse = np.unique(qids, return_inverse=True)
        n_variants = np.bincount(inverse, minlength=len(seeds))
        n_right = np.bincount(inverse, weights=hit.astype(float), minlength=len(seeds))
        solved = n_right == n_variants
    else:
        seeds, n_variants, solved = np.array([]), np.array([], dtype=int), np.array([], dtype=bool)
    out["worst_case"] = percent(int(solved.sum()), len(seeds))
    out["score"] = out["worst_case"]
    out["n_seeds"] = len(seeds)
    out["n_incomplete_seeds"] = int((n_variants < N_VARIANTS).sum())
    add_warning(out, incomplete_warning(out["n_incomplete_seeds"], len(seeds)))
    out["by_subject"] = grouped_accuracy([p.meta.get("subject") for p in problems], hit)
    out["by_knowledge_level"] = grouped_accuracy([p.meta.get("knowledge_level") for p in problems], hit)
    return out


def incomplete_warning(incomplete: int, seeds: int) -> str | None:
    """Why a worst case over seeds with missing variants is not the benchmark's worst case.

    >>> incomplete_warning(2, 3)
    'worst case over 3 seed questions, 2 of them with fewer than their 10 variants (judged on the variants loaded: optimistic)'
    """
    if not incomplete:
        return None
    return (f"worst case over {seeds} seed questions, {incomplete} of them with fewer than their {N_VARIANTS} variants "
            "(judged on the variants loaded: optimistic)")
