"""Accuracy-vs-n plots: one panel per benchmark in the card's order, plus its Overall; 95% bands, log2 n.

Layout choices, each for a reason a reader of the plot has:

* panels follow the model card's column order (MMMU … LogicVista), then any other benchmark, then the
  Overall (or Mean) panel, so a plot reads like the card's row;
* every strategy has its own colour, line style and marker, and the curves are drawn so that two that
  coincide stay visible (majority and weighted vote often do): the later one with hollow, smaller markers
  on top of the earlier one's filled ones;
* one legend for the figure, below the panels, never over the data;
* the y-axis spans the data (bands included) with a floor of 0 and a ceiling of 100 and at least
  :data:`MIN_SPAN` points, so an all-zero panel reads 0-10 rather than matplotlib's invented ±0.04;
* one aggregation per file (the report writes one file per aggregation).

matplotlib is imported inside :func:`plot_curves` with the Agg backend, so importing tts never needs a
display or matplotlib itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

STYLE = {  # strategy -> (colour, line style, marker, filled); drawn in this order
    "oracle": ("black", (0, (5, 2)), "", True),
    "best_of_n": ("tab:blue", "-", "o", True),
    "weighted_vote": ("tab:orange", "-", "s", True),
    "majority": ("tab:green", (0, (4, 2)), "D", False),
    "greedy": ("dimgray", "-.", "", True),
    "random": ("tab:red", ":", "", True),
}
OTHER_COLOURS = ("tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
AGGREGATION_FREE = ("greedy", "oracle", "random")
MIN_SPAN = 10.0
"""Smallest y-range of a panel, in accuracy points."""
COLUMNS = 4
MIN_WIDTH = 8.0
"""Inches: a figure of one or two panels still has room for its title and legend."""


def y_limits(values: Sequence[float], *, min_span: float = MIN_SPAN) -> tuple[float, float]:
    """A y-range covering ``values`` inside [0, 100], at least ``min_span`` wide.

    >>> y_limits([0.0, 0.0]), y_limits([100.0]), y_limits([40.0, 47.5])
    ((0.0, 10.0), (90.0, 100.0), (38.75, 48.75))
    """
    finite = [float(v) for v in values if v is not None and v == v]
    if not finite:
        return 0.0, 100.0
    low, high = min(finite), max(finite)
    pad = max((high - low) * 0.05, 0.5)
    low, high = max(0.0, low - pad), min(100.0, high + pad)
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
        if low < 0:
            low, high = 0.0, min_span
        if high > 100:
            low, high = 100.0 - min_span, 100.0
    return low, high


def _series(block: dict[str, Any], strategy: str, agg: str) -> tuple[list[int], list[float], list[float], list[float]]:
    per_agg = block["curves"][strategy]
    agg = agg if agg in per_agg else next(iter(per_agg))
    series = per_agg[agg]
    ns = [int(k) for k in series if series[k] is not None]
    ys = [series[str(k)] for k in ns]
    lo = [block["ci_low"][strategy][agg][str(k)] for k in ns]
    hi = [block["ci_high"][strategy][agg][str(k)] for k in ns]
    return ns, ys, lo, hi


def plot_curves(section: dict[str, Any], path: str | Path, *, aggregation: str = "mean",
                strategies: Sequence[str] | None = None, title: str = "",
                overall: dict[str, Any] | None = None) -> Path:
    """Write a PNG of ``section`` (as built by :func:`tts.analysis.tables.curve_section`) to ``path``.

    ``overall`` (default: ``section["overall_curves"]`` when present; see
    :func:`tts.analysis.tables.overall_curve_section`) adds the Overall panel after the benchmarks.
    """
    import matplotlib.pyplot as plt

    fig = curve_figure(section, aggregation=aggregation, strategies=strategies, title=title, overall=overall)
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def curve_figure(section: dict[str, Any], *, aggregation: str = "mean", strategies: Sequence[str] | None = None,
                 title: str = "", overall: dict[str, Any] | None = None) -> Any:
    """The matplotlib figure :func:`plot_curves` saves (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from tts.metrics import COLUMN_TITLES, card_order

    overall = overall if overall is not None else section.get("overall_curves")
    panels: list[tuple[str, dict[str, Any]]] = []
    for bench in card_order(list(section["curves"])):
        panels.append((COLUMN_TITLES.get(bench, bench), {k: section[k][bench] for k in ("curves", "ci_low", "ci_high")}))
    if overall:
        name = overall["name"] if overall["name"] == "Overall" else f"Mean of {len(overall['benchmarks'])}"
        panels.append((name, overall))
    names = [s for s in STYLE if any(s in block["curves"] for _, block in panels)]
    names += sorted({s for _, block in panels for s in block["curves"]} - set(STYLE))
    if strategies:
        names = [s for s in names if s in strategies]

    cols = min(COLUMNS, max(1, len(panels)))
    rows = (len(panels) + cols - 1) // cols
    width = max(3.6 * cols, MIN_WIDTH)  # room for the title and the legend under a single panel
    legend_cols = max(1, min(6, int(width // 1.9)))
    legend_rows = -(-len(names) // legend_cols)
    height = 2.6 * rows + 0.8 + 0.2 * legend_rows
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    n_max = 1
    handles: dict[str, Any] = {}
    for ax, (panel, block) in zip(axes.flat, panels):
        values: list[float] = []
        for k, strategy in enumerate(names):
            if strategy not in block["curves"]:
                continue
            ns, ys, lo, hi = _series(block, strategy, aggregation)
            if not ns:
                continue
            n_max = max(n_max, max(ns))
            colour, dash, marker, filled = STYLE.get(strategy, (OTHER_COLOURS[k % len(OTHER_COLOURS)], "-", "^", True))
            label = strategy if strategy in AGGREGATION_FREE else f"{strategy} ({aggregation})"
            line = ax.plot(ns, ys, linestyle=dash, color=colour, label=label, linewidth=1.5 if filled else 1.2,
                           marker=marker or None, markersize=5 if filled else 3.5,
                           markerfacecolor=colour if filled else "white", zorder=2 + k,
                           clip_on=False)[0]  # a curve at 0 or 100 is drawn over the frame, not under it
            ax.fill_between(ns, lo, hi, color=colour, alpha=0.12, linewidth=0, zorder=1)
            handles.setdefault(label, line)
            values += [v for v in (*ys, *lo, *hi) if v is not None]
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(_ticks(n_max)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xlim(0.9, n_max * 1.1)
        ax.set_ylim(*y_limits(values))
        ax.set_title(panel, fontsize=10, fontweight="bold" if block is overall else "normal")
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("n (samples)", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (%)", fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=legend_cols, fontsize=8,
               frameon=False, handlelength=3.0)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.12 / height)
    # fixed margins in inches (tight_layout would cost more than the drawing itself)
    fig.subplots_adjust(left=0.6 / width, right=1 - 0.15 / width, top=1 - (0.6 if title else 0.35) / height,
                        bottom=(0.55 + 0.2 * legend_rows) / height, wspace=0.28, hspace=0.45)
    return fig


def _ticks(n_max: int) -> list[int]:
    """Powers of two up to ``n_max``, and ``n_max``."""
    ticks = [1 << k for k in range(n_max.bit_length()) if (1 << k) <= n_max]
    return ticks + ([n_max] if n_max not in ticks else [])
