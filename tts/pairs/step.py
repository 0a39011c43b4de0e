"""Step-level pairs in the Step-DPO layout, located by the critic's step scores.

Step-DPO (``mpo.md`` §4.1) trains on (prompt, ``initial_reason_steps``, chosen next step, rejected next
step): a shared correct prefix, then the first wrong step against a good step that continues the same
prefix. Here, for every wrong rollout (incorrect or unextractable answer) with critic scores:

1. the fork is the first step whose score is below ``threshold`` (VisualPRM scores are P(+), so 0.5 is the
   critic's own +/- boundary);
2. that step is the rejected step; the steps before it are ``initial_steps``;
3. a chosen step comes from a *correct* rollout whose first steps equal those steps exactly and whose next
   step differs and scores at least ``threshold``.

Steps are the critic's own steps (``StepScores.steps``); a rollout whose steps do not rebuild its text
with the step separator is left out (counted), so ``initial_steps + step`` is always a true prefix of a
real rollout. Candidates are de-duplicated and at most ``cap`` are drawn per problem with a seeded
generator. TRL rows put the prefix in the prompt (the assistant turn continued) and train the steps alone;
MMPR rows, which have no prefix slot, train on ``initial_steps + step`` for both sides (the shared prefix
cancels in the DPO sigmoid term, not in ``bco_pair``/``sft``; see :mod:`tts.pairs.formats`).
"""

from __future__ import annotations

from tts.pairs.common import Context, make_pair, usable_samples
from tts.pairs.rules import sample_capped, seeded_rng
from tts.pairs.source import Sample
from tts.pairs.types import ALL_CORRECT, NO_CORRECT, NO_GOLD, NO_LOW_STEP, NO_SHARED_PREFIX, NOT_SCORED, Pair
from tts.records import Problem

STEP_SEPARATOR = "\n\n"


def first_low_step(step_scores: tuple[float, ...], threshold: float) -> int | None:
    """Index of the first step scored below ``threshold``, or None.

    >>> first_low_step((0.9, 0.7, 0.2, 0.8), 0.5), first_low_step((0.9,), 0.5)
    (2, None)
    """
    return next((i for i, s in enumerate(step_scores) if s < threshold), None)


def _steps_ok(ctx: Context, s: Sample, sep: str) -> bool:
    if not s.step_scores:
        return False
    if sep.join(s.steps) != s.text:
        ctx.report.count("steps_do_not_rebuild_text")
        return False
    return True


def step_problem(ctx: Context, problem: Problem, *, threshold: float = 0.5, sep: str = STEP_SEPARATOR) -> list[Pair] | str:
    """Step-DPO pairs of one problem, or the reason there are none."""
    if not problem.golds:
        return NO_GOLD
    samples = usable_samples(ctx, problem)
    if isinstance(samples, str):
        return samples
    good_all = [s for s in samples if s.outcome == "correct"]
    bad_all = [s for s in samples if s.outcome in ("incorrect", "format")]
    if not good_all:
        return NO_CORRECT
    if not bad_all:
        return ALL_CORRECT
    ctx.report.count("unscored_rollouts", sum(not s.step_scores for s in samples))
    good = [s for s in good_all if _steps_ok(ctx, s, sep)]
    bad = [s for s in bad_all if _steps_ok(ctx, s, sep)]
    if not good or not bad:
        return NOT_SCORED

    seen: set[tuple[str, str, str]] = set()
    cands: list[tuple[Sample, Sample, int]] = []
    forks = 0
    for r in bad:
        t = first_low_step(r.step_scores, threshold)
        if t is None:
            ctx.report.count("wrong_rollouts_without_low_step")
            continue
        forks += 1
        prefix = r.steps[:t]
        for c in good:
            if len(c.steps) <= t or c.steps[:t] != prefix or c.steps[t] == r.steps[t] or c.step_scores[t] < threshold:
                continue
            key = (sep.join(prefix), c.steps[t], r.steps[t])
            if key in seen:
                ctx.report.count("duplicate_pairs")
                continue
            seen.add(key)
            cands.append((c, r, t))
    if not cands:
        return NO_SHARED_PREFIX if forks else NO_LOW_STEP
    drawn = sample_capped(cands, ctx.cap, seeded_rng(ctx.seed, problem.id, "step"))
    ctx.report.count("capped_away", len(cands) - len(drawn))
    drawn.sort(key=lambda crt: (crt[2], crt[0].idx, crt[1].idx))
    pairs = []
    for c, r, t in drawn:
        initial = sep.join(r.steps[:t]) + sep if t else ""
        details = {
            "step_index": t, "threshold": threshold, "chosen_step_score": c.step_scores[t],
            "rejected_step_score": r.step_scores[t], "initial_reason_steps": initial,
            "full_chosen": sep.join(c.steps[t:]), "full_rejected": sep.join(r.steps[t:]),
        }
        pairs.append(make_pair(ctx, problem, "step", c, r, chosen_text=c.steps[t], rejected_text=r.steps[t],
                               initial_steps=initial, details=details))
    return pairs
