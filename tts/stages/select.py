"""Stage 4: apply selection strategies to each problem's rollouts (``selections.jsonl``).

One :class:`~tts.records.Selection` per (problem, strategy, aggregation, n, critic): the rollout the
strategy picks among the first ``n`` samples. Strategies that read no scores (greedy, oracle, random) are
written once per problem with aggregation ``"none"`` and no critic. Answers are clustered by the grader's
equivalence over *all* of a problem's strict-graded answers (so cluster ids, and with them the vote
tie-break "first appearance", are the run's), only when a vote strategy is asked for. Records are
appended per batch of problems and existing keys are skipped, so a killed selection resumes.

Records are immutable, so a problem is selected only once it is complete: all of its first ``n`` samples
are on disk, strict-graded and (for strategies that read scores) scored by the critic. A problem with a
failed sample or critic call is left for the resume that fills it in, never decided on part of its
samples; the number left is ``manifest.stages.select.incomplete``. A selection records the hash of the texts it
was made from (``text_hash``): when a rollout is edited afterwards, readers ignore the stale selection, as they
ignore its scores and grades, and the next ``select`` makes it again from the recomputed ones.

Example:
    >>> select_run(run, "visualprm", strategies=["best_of_n", "majority"], aggregations=["mean", "min"])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence
from typing import Any

from tts.labels import pick_critic
from tts.records import Grade, Problem, Rollout, Selection, StepScores, hash_texts
from tts.rundir import RunDir
from tts.stages.common import after_batch, by_problem, chunks, select_problems

log = logging.getLogger(__name__)

AGGREGATION_FREE = "none"
"""The ``Selection.aggregation`` of strategies that do not read scores."""


def sampled_greedily(sampling: Mapping[str, Any] | None) -> bool:
    """Whether sample 0 of this run was decoded greedily (``temperature == 0`` or ``first_greedy``)."""
    sampling = sampling or {}
    return sampling.get("temperature") == 0 or bool(sampling.get("first_greedy"))


def select_run(run: RunDir, critic: str | None, *, strategies: Sequence[str] = ("best_of_n",),
               aggregations: Sequence[str] = ("mean",), n: int | None = None,
               problems: Sequence[Problem] | None = None, batch_size: int = 256, progress: bool = False) -> int:
    """Write the selection of every (problem, strategy, aggregation) among the first ``n`` samples
    (default: the run's N); returns the number of records written."""
    from tts.engines.base import problem_seed
    from tts.progress import progress_bar
    from tts.strategies import STRATEGIES, Candidate, check_aggregation, cluster_ids

    specs = [STRATEGIES.get(s) for s in strategies]
    aggregations = [check_aggregation(a) for a in aggregations]
    sampling = run.config("sampling") or {}
    all_rollouts = run.read(Rollout)
    n = n or int(sampling.get("n") or 0) or max((r.sample_idx + 1 for r in all_rollouts), default=0)
    if critic is not None and any(s.uses_scores for s in specs):
        pick_critic(run, critic)  # an unknown label is an error naming the run's labels
    problems = select_problems(run, problems)
    rollouts = by_problem(all_rollouts)
    scores = {s.key(): s.scores for s in run.read(StepScores, critic)} if critic else {}
    grades = {(g.problem_id, g.sample_idx): g for g in run.read(Grade) if g.rules == "strict"}
    flags_in_run = any("greedy" in r.flags for r in all_rollouts)
    greedy_zero = not flags_in_run and sampled_greedily(sampling)
    need_clusters = any(s.uses_clusters for s in specs)
    needs_scores = scores if any(s.uses_scores for s in specs) else None
    done = run.keys(Selection)
    written = incomplete = 0
    with progress_bar("selecting", total=len(problems), unit="problems", enabled=progress) as advance:
        for batch in chunks(problems, batch_size):
            records = []
            for p in batch:
                rs = rollouts.get(p.id, [])
                if not rs:
                    continue
                if not complete(rs, n, grades, needs_scores):
                    incomplete += 1
                    continue
                inputs = hash_texts([r.text_hash for r in rs if r.sample_idx < n])  # by_problem: in sample order
                answers = [grades[r.key()].extracted if r.key() in grades else None for r in rs]
                ids = cluster_ids(answers, p) if need_clusters else [None] * len(rs)
                cands = [
                    Candidate(r.sample_idx, scores.get(r.key(), ()), a, c,
                              grades[r.key()].correct if r.key() in grades else None,
                              "greedy" in r.flags or (greedy_zero and r.sample_idx == 0))
                    for r, a, c in zip(rs, answers, ids) if r.sample_idx < n
                ]
                for spec in specs:
                    free = spec.aggregation_free
                    for agg in ([AGGREGATION_FREE] if free else aggregations):
                        label = None if free else critic
                        if (p.id, spec.name, agg, n, label) in done:
                            continue
                        idx = spec(cands, "mean" if free else agg, seed=problem_seed(0, p.id))
                        answer = next((c.answer for c in cands if c.sample_idx == idx), None)
                        records.append(Selection(p.id, spec.name, agg, n, label, idx, answer, text_hash=inputs))
                        done.add((p.id, spec.name, agg, n, label))
            worked = len({r.problem_id for r in records})
            written += run.append(records)
            advance(worked)
            advance(len(batch) - worked, skipped=True)  # done before, or not complete yet: no work
            after_batch()
    run.update_stage("select", selections=len(done), incomplete=incomplete)
    if incomplete:
        log.warning("%d problem(s) not selected yet: some of their first %d samples have no rollout, grade or "
                    "score; resume the run to fill them in", incomplete, n)
    return written


def complete(rollouts: Sequence[Rollout], n: int, grades: Mapping[tuple[str, int], Grade],
             scored: Container[tuple[str, int]] | None) -> bool:
    """Whether samples ``0..n-1`` of one problem all have a rollout, a strict grade and (``scored`` given) a
    critic record (an ``unscored`` record counts: the critic has decided)."""
    first = [r for r in rollouts if r.sample_idx < n]
    if len({r.sample_idx for r in first}) < n:
        return False
    return all(r.key() in grades and (scored is None or r.key() in scored) for r in first)
