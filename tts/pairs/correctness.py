"""Response-level pairs from graded rollouts: MMPR's correctness rules, and PRM-ranked hard negatives.

``correctness`` (MMPR, ``mpo.md`` §2.3): per problem, chosen ∈ correct rollouts; rejected ∈ wrong-answer
rollouts (kind ``correctness``) or ∈ rollouts with no extractable answer (kind ``format``, MMPR's separate
``*_pairs_vqa_format_rules`` file). Pairs whose chosen answer appears inside the rejected answer are
skipped; each pool keeps at most ``cap`` pairs drawn with a generator seeded by (seed, problem, pool).

Two deliberate differences from InternVL's script, both documented in the report's counters:

* identical (chosen text, rejected text) candidates are removed *before* the draw, so the cap is spent on
  distinct pairs (InternVL de-duplicates after drawing and can end with fewer);
* the substring rule is not applied to the format pool (InternVL compares with the string ``'None'``).

``prm``: the same pools, but ranked by the critic instead of drawn at random: the best-scored correct
rollouts against the best-scored wrong ones (hard negatives: wrong answers the critic liked), walking the
rank grid diagonally, optionally keeping only pairs with ``score(chosen) - score(rejected) >= min_margin``.
Rollouts without critic scores take no part. Ties are broken by sample index, so no seed is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tts.pairs.common import Context, make_pair, usable_samples
from tts.pairs.rules import diagonal_order, entailed, sample_capped, seeded_rng
from tts.pairs.source import Sample
from tts.pairs.types import ALL_CORRECT, ALL_ENTAILED, BELOW_MARGIN, NO_CORRECT, NO_GOLD, NOT_SCORED, Pair
from tts.records import Problem

Candidate = tuple[Sample, Sample]


def _candidates(ctx: Context, chosen: Sequence[Sample], rejected: Sequence[Sample], *, substring_rule: bool,
                order: Sequence[tuple[int, int]] | None = None,
                keep: Callable[[Sample, Sample], bool] | None = None) -> list[Candidate]:
    """Every allowed (chosen, rejected) combination, de-duplicated on the two texts, in ``order``."""
    cells = order if order is not None else [(i, j) for i in range(len(chosen)) for j in range(len(rejected))]
    seen: set[tuple[str, str]] = set()
    out: list[Candidate] = []
    for i, j in cells:
        c, r = chosen[i], rejected[j]
        if substring_rule and entailed(c.extracted, r.extracted):
            ctx.report.count("substring_skips")
            continue
        if keep is not None and not keep(c, r):
            ctx.report.count("below_margin")
            continue
        if (c.text, r.text) in seen:
            ctx.report.count("duplicate_pairs")
            continue
        seen.add((c.text, r.text))
        out.append((c, r))
    return out


def _pools(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample], list[Sample]]:
    return ([s for s in samples if s.outcome == "correct"], [s for s in samples if s.outcome == "incorrect"],
            [s for s in samples if s.outcome == "format"])


def _pairable(ctx: Context, problem: Problem) -> tuple[list[Sample], tuple[list[Sample], ...]] | str:
    """The problem's usable samples and its (correct, incorrect, format) pools, or why it gives no pair."""
    if not problem.golds:
        return NO_GOLD
    samples = usable_samples(ctx, problem)
    if isinstance(samples, str):
        return samples
    pos, neg, fmt = _pools(samples)
    if not pos:
        return NO_CORRECT
    if not neg and not fmt:
        return ALL_CORRECT
    return list(samples), (pos, neg, fmt)


def correctness_problem(ctx: Context, problem: Problem) -> list[Pair] | str:
    """MMPR's correctness pairs of one problem, or the reason there are none."""
    found = _pairable(ctx, problem)
    if isinstance(found, str):
        return found
    pos, neg, fmt = found[1]
    pairs: list[Pair] = []
    for kind, rejected, rule in (("correctness", neg, True), ("format", fmt, False)):
        cands = _candidates(ctx, pos, rejected, substring_rule=rule)
        drawn = sample_capped(cands, ctx.cap, seeded_rng(ctx.seed, problem.id, kind))
        ctx.report.count("capped_away", len(cands) - len(drawn))
        drawn.sort(key=lambda cr: (cr[0].idx, cr[1].idx))
        pairs += [make_pair(ctx, problem, kind, c, r) for c, r in drawn]
    return pairs or ALL_ENTAILED


def _score(sample: Sample) -> float:
    return sample.score if sample.score is not None else float("-inf")


def _by_score(samples: Sequence[Sample]) -> list[Sample]:
    return sorted(samples, key=lambda s: (-_score(s), s.idx))


def prm_problem(ctx: Context, problem: Problem, *, min_margin: float | None = None) -> list[Pair] | str:
    """Hard-negative pairs of one problem ranked by the critic, or the reason there are none."""
    found = _pairable(ctx, problem)
    if isinstance(found, str):
        return found
    samples, (pos, neg, fmt) = found
    unscored = [s for s in samples if s.score is None]
    ctx.report.count("unscored_rollouts", len(unscored))
    pos, neg, fmt = (_by_score([s for s in pool if s.score is not None]) for pool in (pos, neg, fmt))
    if not pos or not (neg or fmt):
        return NOT_SCORED

    def keep(c: Sample, r: Sample) -> bool:
        return min_margin is None or _score(c) - _score(r) >= min_margin

    margin_skips = ctx.report.counts.get("below_margin", 0)

    pairs: list[Pair] = []
    for kind, rejected, rule in (("prm", neg, True), ("prm_format", fmt, False)):
        cands = _candidates(ctx, pos, rejected, substring_rule=rule, order=diagonal_order(len(pos), len(rejected)),
                            keep=keep)
        ctx.report.count("capped_away", max(0, len(cands) - ctx.cap))
        pairs += [make_pair(ctx, problem, kind, c, r, details={"margin": _score(c) - _score(r)})
                  for c, r in cands[: ctx.cap]]
    if pairs:
        return pairs
    return BELOW_MARGIN if ctx.report.counts.get("below_margin", 0) > margin_skips else ALL_ENTAILED
