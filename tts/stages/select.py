"""Stage 4: apply selection strategies to each problem's rollouts (``selections.jsonl``)."""

from __future__ import annotations

from collections.abc import Sequence

from tts.records import Grade, Problem, Rollout, Selection, StepScores
from tts.rundir import RunDir
from tts.stages.common import by_problem, select_problems


def select_run(run: RunDir, critic: str | None, *, strategies: Sequence[str] = ("best_of_n",),
               aggregations: Sequence[str] = ("mean",), n: int | None = None,
               problems: Sequence[Problem] | None = None) -> int:
    """Write the selection of every (problem, strategy, aggregation) among the first ``n`` samples."""
    from tts.strategies import STRATEGIES, Candidate

    sampling = run.config("sampling") or {}
    n = n or int(sampling.get("n", 0)) or None
    problems = select_problems(run, problems)
    rollouts = by_problem(run.read(Rollout))
    scores = {s.key(): s for s in run.read(StepScores, critic)} if critic else {}
    extracted = {(g.problem_id, g.sample_idx): g.extracted for g in run.read(Grade) if g.scoring == "strict"}
    done = run.keys(Selection)
    records = []
    for p in problems:
        rs = [r for r in rollouts.get(p.id, []) if n is None or r.sample_idx < n]
        if not rs:
            continue
        count = n or len(rs)
        cands = [Candidate(r.sample_idx, scores[r.key()].scores if r.key() in scores else (),
                           extracted.get(r.key())) for r in rs]
        for strategy in strategies:
            fn = STRATEGIES.get(strategy)
            for agg in aggregations:
                sel_key = (p.id, strategy, agg, count, critic)
                if sel_key in done:
                    continue
                idx = fn(cands, agg)
                answer = next((c.answer for c in cands if c.sample_idx == idx), None)
                records.append(Selection(p.id, strategy, agg, count, critic, idx, answer))
    written = run.append(records)
    run.update_stage("select", selections=len(done) + written)
    return written
