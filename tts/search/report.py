"""The ``search`` section of a search run's ``report.json``: what each problem's search cost.

``report["search"][algorithm]`` (one entry per algorithm whose summaries the run holds):

``settings``
    The settings the algorithm read (as bound in the run).
``problems``, ``stopped``
    Problems searched, and how many searches ended by each reason (``done``, ``max_steps``, ``budget``).
``total``, ``mean``
    Sums and per-problem means of ``policy_tokens`` (every token the policy generated: proposals, lookahead,
    pruned branches), ``critic_tokens`` (sequence lengths the critic read), ``proposer_calls`` and
    ``scorer_calls`` (engine and critic calls the problem took part in: a call serves every problem in
    flight), ``proposals``, ``scored``, ``policy_seconds``, ``critic_seconds`` (the problem's share of the
    calls' wall time, by tokens) and ``candidates`` (distinct final candidates before padding to N).
``per_problem``
    The same numbers for every problem, by problem id.

The report's generic ``cost`` section sums the rollouts' own tokens (copies padded to N included), which is
not what a search spent; this section is.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tts.rundir import RunDir
from tts.search.records import SearchSummary
from tts.search.store import SearchStore, algorithms_in

COST_FIELDS = ("policy_tokens", "critic_tokens", "proposer_calls", "scorer_calls", "proposals", "scored",
               "policy_seconds", "critic_seconds")


def problem_cost(summary: SearchSummary) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(summary, name) for name in COST_FIELDS}
    out["policy_seconds"] = round(out["policy_seconds"], 4)
    out["critic_seconds"] = round(out["critic_seconds"], 4)
    out["candidates"] = len(summary.candidates)
    out["stopped"] = summary.stopped
    return out


def search_section(run: RunDir) -> dict[str, Any] | None:
    """The section, or ``None`` for a run without a search."""
    algorithms = algorithms_in(run.path)
    if not algorithms:
        return None
    out: dict[str, Any] = {}
    for algorithm in algorithms:
        summaries = list(SearchStore(run, algorithm).summaries().values())
        per_problem = {s.problem_id: problem_cost(s) for s in summaries}
        total: dict[str, float] = {}
        for name in (*COST_FIELDS, "candidates"):
            total[name] = sum(p[name] for p in per_problem.values())
        count = max(1, len(summaries))
        bound = (run.config("search") or {})
        out[algorithm] = {
            "settings": bound.get("settings") if bound.get("algorithm") == algorithm else
            (summaries[0].settings if summaries else {}),
            "problems": len(summaries),
            "stopped": dict(Counter(s.stopped for s in summaries)),
            "total": {k: round(v, 4) if isinstance(v, float) else v for k, v in total.items()},
            "mean": {k: round(v / count, 4) for k, v in total.items()},
            "per_problem": per_problem,
        }
    return out
