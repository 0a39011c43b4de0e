"""We-Math's four-dimensional metric and step accuracies (``four_dimensional_metrics.py``, ``accuracy.py``).

A problem (one ``ID``) is a composite question (``Nsteps_multi``) and its N one-step sub-questions
(``Nsteps_1`` .. ``Nsteps_N``), N = 2 or 3. Judging the composite against its steps:

==========================  =========================================  ===========================
category                    strict                                     loose
==========================  =========================================  ===========================
Insufficient Knowledge IK   some step wrong, composite wrong           same
Inadequate Generalization   all steps right, composite wrong           same
IG
Complete Mastery CM         all steps right, composite right           some step right, composite right
Rote Memorization RM        some step wrong, composite right           all steps wrong, composite right
==========================  =========================================  ===========================

``Score = (total - 0.5·IG - RM - IK) / total``, strict and loose. The InternVL3 / VisualPRM tables report
the **strict** score for WeMath (the OpenCompass leaderboard's "Score (Strict)"), so ``score`` is the
strict score; ``score_loose`` is also given. IK, IG and CM rates are over all problems; RM rates are
``RM / (CM + RM)``. Step accuracies: S1 over every one-step sub-question, S2 / S3 over the composites of
2-step / 3-step problems.

The official script divides by a hard-coded 525 (the testmini problem count); here ``total`` is the number
of problems whose composite and sub-questions were all loaded, which is 525 on the full split and stays
right on subsets. Problems missing a part are left out and counted in ``n_incomplete_groups``, and the
metric carries a ``warning`` saying how many problems the score rests on and how many were left out; with
no complete problem at all, ``score`` is ``None`` and the warning says why (the 4-D score needs a
composite question with all its one-step sub-questions).

Example (two problems: a mastered 2-step one and a rote-memorized 3-step one):
    >>> from tts.records import Problem
    >>> rows = [("1", "2steps_1", True), ("1", "2steps_2", True), ("1", "2steps_multi", True),
    ...         ("2", "3steps_1", False), ("2", "3steps_2", True), ("2", "3steps_3", True), ("2", "3steps_multi", True)]
    >>> ps = [Problem(id=f"{i}-{k}", benchmark="wemath", split="testmini", question="?", meta={"ID": i, "key": k})
    ...       for i, k, _ in rows]
    >>> m = wemath_metrics(ps, {f"{i}-{k}": ok for i, k, ok in rows})
    >>> m["score_strict"], m["score_loose"], m["counts"]["RoteMemorization_strict"]
    (50.0, 100.0, 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tts.metrics.common import add_warning, hits, missing_warning, percent
from tts.records import Problem


def _groups(problems: Sequence[Problem], hit: np.ndarray) -> tuple[dict[int, np.ndarray], int]:
    """Per step count N: an array (problems × N+1) of step verdicts then the composite; and #incomplete."""
    table: dict[tuple[str, str], bool] = {}
    ids: dict[int, list[str]] = {2: [], 3: []}
    for p, h in zip(problems, hit, strict=True):
        key, pid = str(p.meta.get("key", "")), str(p.meta.get("ID", ""))
        table[(pid, key)] = bool(h)
        steps = int(key[0]) if key[:1] in ("2", "3") and key[1:6] == "steps" else None
        if steps is not None and pid not in ids[steps]:
            ids[steps].append(pid)
    out, incomplete = {}, 0
    for steps, group_ids in ids.items():
        rows = []
        for gid in group_ids:
            parts = [table.get((gid, f"{steps}steps_{i}")) for i in range(1, steps + 1)]
            parts.append(table.get((gid, f"{steps}steps_multi")))
            if any(v is None for v in parts):
                incomplete += 1
                continue
            rows.append(parts)
        out[steps] = np.array(rows, dtype=bool).reshape(len(rows), steps + 1)
    return out, incomplete


def wemath_metrics(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    hit, missing = hits(problems, correct)
    groups, incomplete = _groups(problems, hit)
    counts = dict.fromkeys(("InsufficientKnowledge", "InadequateGeneralization", "CompleteMastery_loose",
                            "CompleteMastery_strict", "RoteMemorization_loose", "RoteMemorization_strict"), 0)
    for table in groups.values():
        steps, multi = table[:, :-1], table[:, -1]
        all_steps, any_step = steps.all(axis=1), steps.any(axis=1)
        counts["InadequateGeneralization"] += int((all_steps & ~multi).sum())
        counts["InsufficientKnowledge"] += int((~all_steps & ~multi).sum())
        counts["CompleteMastery_loose"] += int((any_step & multi).sum())
        counts["CompleteMastery_strict"] += int((all_steps & multi).sum())
        counts["RoteMemorization_loose"] += int((~any_step & multi).sum())
        counts["RoteMemorization_strict"] += int((~all_steps & multi).sum())
    total = sum(len(t) for t in groups.values())

    def score(rm: int) -> float | None:
        return percent(total - 0.5 * counts["InadequateGeneralization"] - rm - counts["InsufficientKnowledge"], total)

    rates = {
        "InsufficientKnowledge": percent(counts["InsufficientKnowledge"], total),
        "InadequateGeneralization": percent(counts["InadequateGeneralization"], total),
        "CompleteMastery_loose": percent(counts["CompleteMastery_loose"], total),
        "CompleteMastery_strict": percent(counts["CompleteMastery_strict"], total),
        "RoteMemorization_loose": percent(counts["RoteMemorization_loose"],
                                          counts["CompleteMastery_loose"] + counts["RoteMemorization_loose"]),
        "RoteMemorization_strict": percent(counts["RoteMemorization_strict"],
                                           counts["CompleteMastery_strict"] + counts["RoteMemorization_strict"]),
    }
    step_cells = np.concatenate([t[:, :-1].ravel() for t in groups.values()])
    strict = score(counts["RoteMemorization_strict"])
    out = {
        "score": strict, "score_strict": strict, "score_loose": score(counts["RoteMemorization_loose"]),
        "n": len(problems), "n_correct": int(hit.sum()), "n_missing": missing, "accuracy": percent(int(hit.sum()), len(problems)),
        "n_groups": total, "n_incomplete_groups": incomplete, "counts": counts, "rates": rates,
        "step_accuracy": {"one_step": percent(int(step_cells.sum()), step_cells.size),
                          "two_step": percent(int(groups[2][:, -1].sum()), len(groups[2])),
                          "three_step": percent(int(groups[3][:, -1].sum()), len(groups[3]))},
    }
    add_warning(out, missing_warning(missing, len(problems)))
    return add_warning(out, incomplete_warning(incomplete, total, len(problems)))


def incomplete_warning(incomplete: int, complete: int, questions: int = 0) -> str | None:
    """Why a 4-D score over some of the problems is not the benchmark's (or why there is none).

    >>> incomplete_warning(3, 0)
    '4-D score unavailable: none of the 3 problems has its composite question and all its one-step sub-questions loaded'
    >>> incomplete_warning(0, 0, 12)
    "4-D score unavailable: none of the 12 questions carries We-Math's problem ID and step key"
    """
    if not incomplete:
        if not complete and questions:
            return f"4-D score unavailable: none of the {questions} questions carries We-Math's problem ID and step key"
        return None
    if not complete:
        return (f"4-D score unavailable: none of the {incomplete} problems has its composite question and all its "
                "one-step sub-questions loaded")
    return (f"4-D score over {complete} problems; {incomplete} left out for a missing composite question or "
            "sub-question")
