"""Accuracy-vs-n plots: one panel per benchmark, one line per strategy, 95% bands, log2 n axis.

matplotlib is imported inside :func:`plot_curves` with the Agg backend, so importing tts never needs a
display or matplotlib itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

STYLE = {  # strategy -> (colour, line style); references are dashed
    "best_of_n": ("tab:blue", "-"),
    "weighted_vote": ("tab:orange", "-"),
    "majority": ("tab:green", "-"),
    "greedy": ("tab:gray", ":"),
    "oracle": ("black", "--"),
    "random": ("tab:red", "--"),
}


def plot_curves(section: dict[str, Any], path: str | Path, *, aggregation: str = "mean",
                strategies: Sequence[str] | None = None, title: str = "") -> Path:
    """Write a PNG of ``section`` (as built by :func:`tts.analysis.tables.curve_section`) to ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    benches = list(section["curves"])
    cols = min(3, max(1, len(benches)))
    rows = (len(benches) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        for strategy, per_agg in section["curves"][bench].items():
            if strategies and strategy not in strategies:
                continue
            agg = aggregation if aggregation in per_agg else next(iter(per_agg))
            series = per_agg[agg]
            ns = [int(k) for k in series if series[k] is not None]
            ys = [series[str(k)] for k in ns]
            lo = [section["ci_low"][bench][strategy][agg][str(k)] for k in ns]
            hi = [section["ci_high"][bench][strategy][agg][str(k)] for k in ns]
            colour, dash = STYLE.get(strategy, (None, "-"))
            label = strategy if strategy in ("greedy", "oracle", "random") else f"{strategy} ({agg})"
            ax.plot(ns, ys, dash, color=colour, label=label, linewidth=1.6)
            ax.fill_between(ns, lo, hi, color=colour, alpha=0.15, linewidth=0)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.set_title(bench)
        ax.set_xlabel("n (samples)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(benches):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
