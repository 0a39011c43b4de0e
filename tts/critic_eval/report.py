"""The critic-eval report: F1 per source and overall beside the paper's Table 3, the best threshold, the curve.

``report.json`` keys:

* ``applicable`` (false for an outcome-only critic, with ``reason``; nothing else is computed then);
* ``threshold``, ``rule``: the decision rule (a step is predicted correct iff its score > threshold);
* ``sources[column]`` and ``overall``: ``solutions``, ``scored_solutions``, ``steps`` (correct / incorrect /
  neutral labels), ``evaluated_steps`` (±1 and scored), ``unscored_steps`` (±1 without a score),
  ``confusion``, ``f1_correct``, ``f1_incorrect``, ``macro_f1`` (percent, at ``threshold``),
  ``macro_f1_at_best`` and ``paper`` (VisualPRM-8B's Table 3 value); ``overall`` is pooled over all steps;
* ``mean_of_sources``: the plain mean of the per-source macro-F1 (a diagnostic; not the paper's overall);
* ``best_threshold``: ``{threshold, macro_f1, f1_correct, f1_incorrect}`` over every possible threshold;
* ``curve``: ``thresholds`` and, per line (``overall``, ``f1_correct``, ``f1_incorrect``, each source),
  macro-F1 in percent: the data of ``report-f1.png``;
* ``coverage`` and ``warnings``: what the numbers rest on (skipped rows, a partial selection, unscored
  solutions or steps); ``complete`` is true only for the whole benchmark with every labelled step scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tts.benchmarks.visualprocessbench import COLUMNS, HUB_ID, LoadedSamples
from tts.critic_eval.metrics import Confusion, best_threshold, confusion, sweep, threshold_grid
from tts.records import LabelledStepScores

#: VisualPRM paper (arXiv 2503.10291) Table 3, VisualPRM-8B row: macro-F1 (%) per source and overall.
PAPER_VISUALPRM_8B: dict[str, float] = {"MMMU": 58.5, "MathVision": 62.1, "MathVerse-VO": 61.0, "DynaMath": 62.7,
                                        "WeMath": 61.8, "overall": 62.0}
PAPER_RANDOM = 50.0  # Table 3 / Table 4: random guessing
# F1 is constant from one score value up to the next ("score > t" changes only at the scores): steps, not lines.
STEPS = "steps-post"
RULE = "a step is predicted correct iff its score > threshold; neutral steps and unscored steps are excluded"


def _pct(x: float) -> float:
    return 100.0 * x


def _pool(records: Sequence[LabelledStepScores]) -> tuple[list[int], list[float | None]]:
    labels: list[int] = []
    scores: list[float | None] = []
    for r in records:
        labels += r.labels
        scores += r.scores
    return labels, scores


def _section(records: Sequence[LabelledStepScores], solutions: int, threshold: float, best: float,
             paper: float | None) -> dict[str, Any]:
    labels, scores = _pool(records)
    counts = Counter(labels)
    c: Confusion = confusion(labels, scores, threshold)
    unscored = sum(1 for y, s in zip(labels, scores) if y != 0 and s is None)
    some = c.steps > 0  # no F1 at all (rather than a misleading 0) for a source without evaluated steps
    at_best = confusion(labels, scores, best).macro_f1 if some and best == best else None  # best is nan: no steps
    return {
        "solutions": solutions, "scored_solutions": sum(r.scored for r in records),
        "steps": {"correct": counts[1], "incorrect": counts[-1], "neutral": counts[0]},
        "evaluated_steps": c.steps, "unscored_steps": unscored, "confusion": c.as_dict(),
        "f1_correct": _pct(c.f1_correct) if some else None, "f1_incorrect": _pct(c.f1_incorrect) if some else None,
        "macro_f1": _pct(c.macro_f1) if some else None,
        "macro_f1_at_best": _pct(at_best) if at_best is not None else None, "paper": paper,
    }


def build_report(records: Sequence[LabelledStepScores], loaded: LoadedSamples, *, threshold: float,
                 critic: dict[str, Any], warnings: Sequence[str] = (), grid_points: int = 201) -> dict[str, Any]:
    """The report over the selected solutions (``loaded.samples``) and their records."""
    by_id = {r.sample_id: r for r in records}
    selected = loaded.samples
    columns = list(COLUMNS) + sorted({s.column for s in selected} - set(COLUMNS))
    mine = [by_id[s.id] for s in selected if s.id in by_id]
    column_of = {s.id: s.column for s in selected}
    labels, scores = _pool(mine)
    best_t, _ = best_threshold(labels, scores)
    sections = {}
    for column in columns:
        recs = [r for r in mine if column_of[r.sample_id] == column]
        n = sum(1 for s in selected if s.column == column)
        sections[column] = _section(recs, n, threshold, best_t, PAPER_VISUALPRM_8B.get(column))
    overall = _section(mine, len(selected), threshold, best_t, PAPER_VISUALPRM_8B["overall"])
    present = [c for c in columns if sections[c]["macro_f1"] is not None]
    mean = sum(sections[c]["macro_f1"] for c in present) / len(present) if present else None
    best_c = confusion(labels, scores, best_t) if best_t == best_t else None

    # The even grid plus the given and the best threshold, so the curve passes through both points exactly.
    extra = [threshold] + ([best_t] if best_t == best_t else [])
    grid = np.unique(np.concatenate([threshold_grid(scores, grid_points), extra]))
    overall_sweep = sweep(labels, scores, grid)
    curve: dict[str, Any] = {"thresholds": grid.tolist(), "overall": (100 * overall_sweep.macro_f1).tolist(),
                             "f1_correct": (100 * overall_sweep.f1_correct).tolist(),
                             "f1_incorrect": (100 * overall_sweep.f1_incorrect).tolist(), "sources": {}}
    for column in present:
        recs = [r for r in mine if column_of[r.sample_id] == column]
        curve["sources"][column] = (100 * sweep(*_pool(recs), grid).macro_f1).tolist()

    notes = list(warnings)
    missing = len(selected) - len(mine)
    unscored_solutions = sum(not r.scored for r in mine)
    if loaded.skipped:
        notes.append(f"{loaded.skipped} of {loaded.rows} dataset rows were skipped as malformed")
    if len(selected) < loaded.rows - loaded.skipped:
        notes.append(f"only {len(selected)} of {loaded.rows - loaded.skipped} solutions were selected (--limit/--source)")
    if missing:
        notes.append(f"{missing} selected solutions have no scores (the critic failed on them; run again to retry)")
    if unscored_solutions:
        notes.append(f"{unscored_solutions} solutions are unscored (see their flags in scores.jsonl)")
    if overall["unscored_steps"]:
        notes.append(f"{overall['unscored_steps']} labelled steps have no score and are left out of the F1")
    complete = not (loaded.skipped or missing or overall["unscored_steps"]
                    or len(selected) < loaded.rows) and bool(selected)
    if not complete:
        notes.append("the numbers rest on partial data: compare them with the paper only with care")
    return {
        "benchmark": HUB_ID, "dataset": {**loaded.identity(), "revision": loaded.revision},
        "critic": critic, "applicable": True, "threshold": threshold, "rule": RULE, "unit": "percent",
        "sources": sections, "overall": overall, "mean_of_sources": mean,
        "best_threshold": ({"threshold": best_t, "macro_f1": _pct(best_c.macro_f1), "f1_correct": _pct(best_c.f1_correct),
                            "f1_incorrect": _pct(best_c.f1_incorrect)} if best_c is not None else
                           {"threshold": None, "macro_f1": None, "f1_correct": None, "f1_incorrect": None}),
        "paper": {"model": "VisualPRM-8B", "table": "VisualPRM (arXiv 2503.10291) Table 3", "random": PAPER_RANDOM,
                  **PAPER_VISUALPRM_8B},
        "curve": curve,
        "coverage": {"dataset_rows": loaded.rows, "skipped_rows": loaded.skipped, "selected": len(selected),
                     "with_scores": len(mine), "unscored_solutions": unscored_solutions, "complete": complete},
        "warnings": notes,
    }


def not_applicable_report(critic: dict[str, Any], reason: str) -> dict[str, Any]:
    """The report of a critic that gives no step scores (an outcome reward model)."""
    return {"benchmark": HUB_ID, "critic": critic, "applicable": False, "reason": reason,
            "paper": {"model": "VisualPRM-8B", **PAPER_VISUALPRM_8B}}


def _f(x: float | None, width: int = 7) -> str:
    return f"{x:{width}.1f}" if x is not None else " " * (width - 1) + "-"


def format_table(report: dict[str, Any]) -> str:
    """The console table: one line per source, the pooled overall, the best threshold, the warnings."""
    critic = report["critic"]
    name = f"{critic.get('label') or critic.get('critic')} ({critic.get('model')})"
    if not report["applicable"]:
        return f"VisualProcessBench: critic {name} — not applicable: {report['reason']}"
    t = report["threshold"]
    lines = [f"VisualProcessBench: critic {name}, threshold {t:g} (a step is correct iff score > {t:g}; "
             "neutral steps excluded)",
             f"{'source':<18}{'solutions':>10}{'steps +/-/0':>20}{'F1(+)':>8}{'F1(-)':>8}{'macro-F1':>10}"
             f"{'@best':>8}{'paper':>8}"]

    def row(label: str, sec: dict[str, Any]) -> str:
        steps = f"{sec['steps']['correct']}/{sec['steps']['incorrect']}/{sec['steps']['neutral']}"
        return (f"{label:<18}{sec['solutions']:>10}{steps:>20}{_f(sec['f1_correct'], 8)}{_f(sec['f1_incorrect'], 8)}"
                f"{_f(sec['macro_f1'], 10)}{_f(sec['macro_f1_at_best'], 8)}{_f(sec['paper'], 8)}")

    for column, sec in report["sources"].items():
        lines.append(row(column, sec))
    lines.append(row("Overall (pooled)", report["overall"]))
    if report["mean_of_sources"] is not None:
        lines.append(f"mean of the sources' macro-F1: {report['mean_of_sources']:.1f} (a diagnostic; the paper's "
                     "overall pools all steps); @best: at the overall best threshold")
    best = report["best_threshold"]
    if best["threshold"] is not None:
        lines.append(f"best threshold on this set: score > {best['threshold']:.6g} gives overall macro-F1 "
                     f"{best['macro_f1']:.1f} (F1+ {best['f1_correct']:.1f}, F1- {best['f1_incorrect']:.1f}); "
                     f"paper: VisualPRM-8B {report['paper']['overall']}, random {report['paper']['random']}")
    shown = report["warnings"][:10]
    lines += [f"warning: {w}" for w in shown]
    if len(report["warnings"]) > len(shown):
        lines.append(f"warning: ... {len(report['warnings']) - len(shown)} more in report.json")
    return "\n".join(lines)


def plot_report(report: dict[str, Any], path: str | Path) -> Path:
    """``report-f1.png``: macro-F1 vs threshold (overall bold, per source thin, F1 of each class dashed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    curve = report["curve"]
    x = curve["thresholds"]
    fig, ax = plt.subplots(figsize=(9.5, 4.8))
    for column, ys in curve["sources"].items():
        ax.plot(x, ys, linewidth=0.9, alpha=0.7, label=column, drawstyle=STEPS)
    ax.plot(x, curve["f1_correct"], "--", color="tab:green", linewidth=1.0, label="overall F1 (correct)",
            drawstyle=STEPS)
    ax.plot(x, curve["f1_incorrect"], "--", color="tab:red", linewidth=1.0, label="overall F1 (incorrect)",
            drawstyle=STEPS)
    ax.plot(x, curve["overall"], color="black", linewidth=2.2, label="overall macro-F1 (pooled)", drawstyle=STEPS)
    ax.axhline(report["paper"]["overall"], color="gray", linestyle=":", linewidth=1.0,
               label=f"paper VisualPRM-8B ({report['paper']['overall']})")
    ax.axhline(report["paper"]["random"], color="gray", linestyle="-.", linewidth=0.8, label="random (50)")
    ax.axvline(report["threshold"], color="tab:blue", linewidth=0.8, linestyle="--",
               label=f"given threshold {report['threshold']:g}")
    best = report["best_threshold"]
    if best["threshold"] is not None:
        ax.plot([best["threshold"]], [best["macro_f1"]], "o", color="tab:orange",
                label=f"best: > {best['threshold']:.3g} ({best['macro_f1']:.1f})")
    ax.set_xlabel("threshold (a step is predicted correct iff its score > threshold)")
    ax.set_ylabel("F1 (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    critic = report["critic"]
    ax.set_title(f"VisualProcessBench: {critic.get('label') or critic.get('critic')}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
