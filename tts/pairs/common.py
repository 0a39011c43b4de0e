"""What every pair method shares: the per-problem checks that come first and the making of a :class:`Pair`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tts.pairs.source import RunView, Sample
from tts.pairs.types import (
    ALL_ERRORS,
    MISSING_IMAGE,
    NO_ROLLOUTS,
    NOT_GRADED,
    PLACEHOLDER_MISMATCH,
    Pair,
    PairReport,
    Side,
)
from tts.prompts import IMAGE_PLACEHOLDER
from tts.records import Problem


@dataclass
class Context:
    """The settings and the report a method works with while it walks the problems."""

    view: RunView
    report: PairReport
    seed: int
    cap: int


def side_of(sample: Sample) -> Side:
    g = sample.grade
    return Side(sample_idx=sample.idx, outcome=sample.outcome, extracted=sample.extracted,
                grade_reason=g.reason if g is not None else None, score=sample.score, step_scores=sample.step_scores)


def make_pair(ctx: Context, problem: Problem, kind: str, chosen: Sample, rejected: Sample | Side, *,
              chosen_text: str | None = None, rejected_text: str | None = None, initial_steps: str = "",
              details: Mapping[str, Any] | None = None) -> Pair:
    """A pair of ``problem``; texts default to the rollouts' full texts."""
    golds = problem.golds
    extra = dict(details or {})
    if len(golds) > 1:
        extra["golds"] = list(golds)
    rejected_side = rejected if isinstance(rejected, Side) else side_of(rejected)
    return Pair(
        method=ctx.report.method, kind=kind, problem_id=problem.id, benchmark=problem.benchmark, split=problem.split,
        prompt=ctx.view.prompt(problem), images=ctx.view.image_paths(problem), answer_gt=golds[0] if golds else None,
        chosen=chosen.text if chosen_text is None else chosen_text,
        rejected=rejected_text if rejected_text is not None else (rejected.text if isinstance(rejected, Sample) else ""),
        chosen_from=side_of(chosen), rejected_from=rejected_side, initial_steps=initial_steps, details=extra,
    )


def problem_issue(ctx: Context, problem: Problem) -> str | None:
    """Why the problem itself cannot be written as training data (bad input), or None."""
    if ctx.view.missing_images(problem):
        return MISSING_IMAGE
    if ctx.view.prompt(problem).count(IMAGE_PLACEHOLDER) != len(problem.images):
        return PLACEHOLDER_MISMATCH
    return None


def usable_samples(ctx: Context, problem: Problem) -> list[Sample] | str:
    """The graded, non-error rollouts of ``problem``, or the reason the problem cannot give a pair."""
    samples = ctx.view.samples.get(problem.id, [])
    if not samples:
        return NO_ROLLOUTS
    issue = problem_issue(ctx, problem)
    if issue:
        return issue
    usable = []
    for s in samples:
        if s.outcome in ("ungraded", "error"):
            ctx.report.count(f"{s.outcome}_rollouts")
        else:
            usable.append(s)
    if not usable:
        return ALL_ERRORS if all(s.outcome == "error" for s in samples) else NOT_GRADED
    return usable
