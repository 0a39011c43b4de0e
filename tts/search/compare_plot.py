"""The comparison figure: accuracy against generated policy tokens per problem (left) and against critic
tokens read per problem (right), one row per benchmark (plus all problems pooled when there are several),
one line per algorithm × strategy with 95% interval bars, log2 token axes.

matplotlib is imported inside :func:`plot_comparison` with the Agg backend.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

COLOURS = {"sampled": "tab:blue", "beam search": "tab:orange", "DVTS": "tab:green", "particle filtering": "tab:red",
           "step-greedy": "tab:purple", "Best-of-N (searched)": "tab:brown"}
MARKERS = {"best_of_n": "o", "weighted_vote": "s", "majority": "^", "oracle": "x", "random": "v"}
DASHES = {"best_of_n": "-", "weighted_vote": "--", "majority": ":", "oracle": "-.", "random": ":"}
POOLED = "all problems"
STRATEGY_NAMES = {"best_of_n": "Best-of-N", "weighted_vote": "weighted vote", "majority": "majority vote"}


def _pooled_cell(point: dict[str, Any]) -> dict[str, Any]:
    return point


def _benchmark_cell(bench: str, point: dict[str, Any]) -> dict[str, Any]:
    cell: dict[str, Any] = point["benchmarks"][bench]
    return cell


def plot_comparison(result: dict[str, Any], path: str | Path, *, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    benches = list(result["benchmarks"])
    panels = ([POOLED] if len(benches) > 1 else []) + benches
    fig, axes = plt.subplots(len(panels), 2, figsize=(12, 4.2 * len(panels) + 1.0), squeeze=False)
    for row, bench in zip(axes, panels):
        for ax, axis, xlabel in ((row[0], "policy_tokens", "generated policy tokens per problem"),
                                 (row[1], "critic_tokens", "critic tokens read per problem")):
            for s in result["series"]:
                pts = [p for p in s["points"] if p[axis] > 0]
                if not pts:
                    continue
                cell = _pooled_cell if bench == POOLED else partial(_benchmark_cell, bench)
                xs = [p[axis] for p in pts]
                ys = [cell(p)["accuracy"] for p in pts]
                lo = [y - cell(p)["ci_low"] for p, y in zip(pts, ys)]
                hi = [cell(p)["ci_high"] - y for p, y in zip(pts, ys)]
                family = "sampled" if s["kind"] == "sampled" else s["label"]
                colour = COLOURS.get(family)
                strategy = STRATEGY_NAMES.get(s["strategy"], s["strategy"])
                label = (f"sampled run {s['label']}: {strategy} ({s['aggregation']})" if s["kind"] == "sampled" else
                         f"{s['label']}: {strategy} over candidates ({s['aggregation']})")
                ax.errorbar(xs, ys, yerr=[lo, hi], color=colour, linestyle=DASHES.get(s["strategy"], "-"),
                            marker=MARKERS.get(s["strategy"], "o"), markersize=4, capsize=3, linewidth=1.4,
                            label=label)
                if s["kind"] == "search":
                    for p, x, y in zip(pts, xs, ys):
                        ax.annotate(f"N={p['n']}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=6,
                                    color=colour)
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
            ax.set_xlabel(xlabel)
            ax.set_ylabel("accuracy (%)")
            ax.set_title(f"{bench} ({result['problems']} problems)" if bench == POOLED else bench)
            ax.grid(True, alpha=0.3, which="both")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title or f"accuracy vs compute, 95% bootstrap intervals over {result['problems']} problems",
                 fontsize=10)
    legend_inches = 0.2 * ((len(labels) + 1) // 2) + 0.3
    fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 0.98))
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
