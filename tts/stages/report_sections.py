"""Report sections beyond accuracy: the seeds' "Overall", published numbers beside ours, and cost.

``overall[rule]``
    Mean of the seven benchmarks' official headline scores for one selection rule, as the InternVL3
    model card's "Overall" column; present only when all seven benchmarks are in the run.
``comparison[expected_rule][benchmark] = {"ours", "expected", "delta"}`` (and ``"warning"``)
    When the run was made from a recipe with ``expected`` numbers (``best_of_n/mean``, ``greedy`` …), each
    is matched with our rule of that strategy/aggregation at the run's N. A number of ours that rests on
    partial data keeps its metric's warning (the overall: the warnings of the benchmarks it averages).
``cost``
    Policy prompt/completion tokens, critic tokens per critic, and wall seconds per stage (accumulated
    across resumes; summed over shards for a merged run).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tts.records import Rollout, StepScores
from tts.rundir import RunDir


def overall_section(metrics: dict[str, dict[str, Any]]) -> dict[str, float]:
    from tts.metrics import OVERALL_BENCHMARKS, overall

    rules: dict[str, dict[str, float]] = defaultdict(dict)
    for bench, by_rule in metrics.items():
        for rule, metric in by_rule.items():
            if isinstance(metric, dict) and metric.get("score") is not None:
                rules[rule][bench] = float(metric["score"])
    out = {}
    for rule, scores in rules.items():
        value = overall({b: scores.get(b) for b in OVERALL_BENCHMARKS})
        if value is not None:
            out[rule] = value
    return out


def _our_rule(expected_rule: str, rules: list[str], n: int | None) -> str | None:
    """``best_of_n/mean`` → ``best_of_n/mean@8 [visualprm]``; ``greedy`` → ``greedy@8``."""
    matches = [r for r in rules if r.split("@")[0] == expected_rule and (n is None or r.split("@")[1].split()[0] == str(n))]
    return sorted(matches)[0] if matches else None


def comparison_section(run: RunDir, metrics: dict[str, dict[str, Any]], overall: dict[str, float]) -> dict[str, Any]:
    expected = (run.manifest.get("recipe") or {}).get("expected") or {}
    if not expected:
        return {}
    n = (run.config("sampling") or {}).get("n")
    rules = sorted({rule for by_rule in metrics.values() for rule in by_rule})
    out: dict[str, Any] = {}
    for expected_rule, numbers in expected.items():
        ours_rule = _our_rule(expected_rule, rules, n)
        rows = {}
        for bench, value in numbers.items():
            warning = None
            if bench == "overall":
                ours = overall.get(ours_rule) if ours_rule else None
                partial = [f"{b}: {m['warning']}" for b, by_rule in sorted(metrics.items())
                           if isinstance(m := by_rule.get(ours_rule or ""), dict) and m.get("warning")]
                warning = "; ".join(partial) or None
            else:
                metric = metrics.get(bench, {}).get(ours_rule) if ours_rule else None
                ours = metric.get("score") if isinstance(metric, dict) else None
                warning = metric.get("warning") if isinstance(metric, dict) else None
            rows[bench] = {"ours": ours, "expected": value,
                           "delta": None if ours is None else round(ours - float(value), 2)}
            if warning and ours is not None:
                rows[bench]["warning"] = warning
        out[expected_rule] = {"rule": ours_rule, "benchmarks": rows}
    return out


def cost_section(run: RunDir) -> dict[str, Any]:
    prompt = completion = 0
    rollouts = 0
    for r in run.read(Rollout):
        prompt += r.prompt_tokens
        completion += r.completion_tokens
        rollouts += 1
    critics = {}
    for label in run.critics():
        records = run.read(StepScores, label)
        critics[label] = {"rollouts": len(records), "tokens": sum(s.tokens or 0 for s in records),
                          "unscored": sum(not s.scored for s in records)}
    seconds = {stage: entry["seconds"] for stage, entry in run.manifest.get("stages", {}).items() if "seconds" in entry}
    return {"policy": {"rollouts": rollouts, "prompt_tokens": prompt, "completion_tokens": completion},
            "critics": critics, "seconds": seconds}
