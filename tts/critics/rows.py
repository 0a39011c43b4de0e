"""Rollouts prepared for scoring, and the step-score records assembled from them.

A critic turns each (problem, rollout) pair either into a :class:`Row` — one token sequence and the
positions whose next-token logits score its steps — or directly into an unscored record (empty response,
over-long question, template mismatch). Backends only ever see rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tts.records import StepScores


@dataclass
class Row:
    """One rollout ready for a forward pass."""

    request: int  # index of its ScoringRequest in the batch
    sample_idx: int
    steps: tuple[str, ...]
    ids: list[int]
    positions: list[int]  # one per step: the position whose next-token logits score it
    flags: tuple[str, ...] = ()


def split_prepared(prepared: Sequence[Sequence[Row | StepScores]]) -> list[Row]:
    return [x for items in prepared for x in items if isinstance(x, Row)]


def assemble(problem_ids: Sequence[str], prepared: Sequence[Sequence[Row | StepScores]], rows: Sequence[Row],
             scores: Sequence[Sequence[float]], label: str) -> list[list[StepScores]]:
    """Per request, the records in response order: scored rows and the unscored records kept as they are."""
    by_key = {(r.request, r.sample_idx): (r, s) for r, s in zip(rows, scores)}
    out = []
    for i, items in enumerate(prepared):
        recs = []
        for x in items:
            if isinstance(x, StepScores):
                recs.append(x)
            else:
                row, s = by_key[(i, x.sample_idx)]
                recs.append(StepScores(problem_ids[i], row.sample_idx, label, row.steps, tuple(s), row.flags,
                                       tokens=len(row.ids)))
        out.append(recs)
    return out
