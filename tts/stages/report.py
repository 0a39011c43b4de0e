"""Stage 5: accuracy per benchmark and strategy, written to ``report.json`` (rewritten atomically)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tts.jsonl import write_json_atomic
from tts.records import Grade, Problem, Selection
from tts.rundir import RunDir


def build_report(run: RunDir, scoring: str = "strict") -> dict[str, Any]:
    """Accuracy (percent) of every selection rule found in the run, plus first-sample accuracy, per benchmark."""
    problems = {p.id: p for p in run.read(Problem)}
    correct = {(g.problem_id, g.sample_idx): g.correct for g in run.read(Grade) if g.scoring == scoring}
    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))

    def add(benchmark: str, rule: str, ok: bool) -> None:
        cell = rows[benchmark][rule]
        cell[0] += int(ok)
        cell[1] += 1

    for pid, p in problems.items():
        if (pid, 0) in correct:
            add(p.benchmark, "first_sample", correct[(pid, 0)])
    for s in run.read(Selection):
        p = problems.get(s.problem_id)
        if p is None:
            continue
        rule = f"{s.strategy}/{s.aggregation}@{s.n}" + (f" [{s.critic}]" if s.critic else "")
        add(p.benchmark, rule, s.sample_idx is not None and correct.get((s.problem_id, s.sample_idx), False))
    accuracy = {
        bench: {rule: {"accuracy": 100.0 * c / t, "correct": c, "total": t} for rule, (c, t) in sorted(rules.items())}
        for bench, rules in sorted(rows.items())
    }
    report = {
        "run": str(run.path),
        "scoring": scoring,
        "models": run.manifest.get("models", {}),
        "sampling": run.config("sampling"),
        "accuracy": accuracy,
        "warnings": {k: v.get("count", 0) for k, v in run.manifest.get("warnings", {}).items()},
    }
    write_json_atomic(run.path / "report.json", report)
    return report
