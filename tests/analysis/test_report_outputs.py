"""Bootstrap intervals, the report's curve blocks, the headline rows and the plot file."""

from __future__ import annotations

import numpy as np
import pytest

from tts.analysis import (
    Curves,
    bootstrap_ci,
    compute_curves,
    curve_section,
    default_ns,
    plot_curves,
    table_rows,
)
from tts.analysis.arrays import RunArrays


def test_bootstrap_interval_brackets_the_mean_and_shrinks_with_more_problems():
    rng = np.random.default_rng(0)
    small = (rng.random((50, 1)) < 0.6).astype(float)
    large = (rng.random((2000, 1)) < 0.6).astype(float)
    lo_s, hi_s = bootstrap_ci(small, seed=1)
    lo_l, hi_l = bootstrap_ci(large, seed=1)
    assert lo_s[0] <= small.mean() <= hi_s[0] and lo_l[0] <= large.mean() <= hi_l[0]
    assert (hi_l - lo_l)[0] < (hi_s - lo_s)[0]
    # about 1.96 standard errors each side for a proportion
    se = np.sqrt(0.6 * 0.4 / 2000)
    assert abs((hi_l - lo_l)[0] - 2 * 1.96 * se) < 0.01


@pytest.mark.parametrize("level", [0.95, 0.9, 0.5])
def test_bootstrap_equals_numpy_percentiles_of_resampled_means(level):
    # the sorted-float32 shortcut gives numpy's linear-interpolated percentiles of the resampled means
    from tts.analysis.bootstrap import resample_counts

    rng = np.random.default_rng(3)
    values = rng.random((120, 7))
    values[:, 0] = 1.0
    low, high = bootstrap_ci(values, resamples=400, level=level, seed=5)
    means = resample_counts(120, 400, 5) @ values / 120
    alpha = (1 - level) / 2
    want_low, want_high = np.quantile(means, [alpha, 1 - alpha], axis=0)
    np.testing.assert_allclose(low, want_low, atol=1e-6)
    np.testing.assert_allclose(high, want_high, atol=1e-6)


def test_constant_curves_have_degenerate_intervals():
    lo, hi = bootstrap_ci(np.ones((30, 3)))
    assert lo.tolist() == hi.tolist() == [1.0, 1.0, 1.0]


def _curves():
    rng = np.random.default_rng(2)
    clusters = rng.integers(-1, 3, (20, 8))
    a = RunArrays.from_numpy(clusters == 0, clusters, {"mean": rng.random((20, 8)), "min": rng.random((20, 8))},
                             benchmarks=["alpha"] * 12 + ["beta"] * 8, greedy=np.zeros(20, int))
    return compute_curves(a, draws=200)


def test_curve_section_shape_and_units():
    curves = _curves()
    section = curve_section(curves, ["mean", "min"], resamples=200)
    assert set(section) == {"curves", "ci_low", "ci_high"}
    assert set(section["curves"]) == {"alpha", "beta"}
    for bench in ("alpha", "beta"):
        for strategy in ("best_of_n", "majority", "weighted_vote", "greedy", "oracle", "random"):
            for agg in ("mean", "min"):
                series = section["curves"][bench][strategy][agg]
                assert list(series) == [str(n) for n in range(1, 9)]
                for n in series:
                    assert 0 <= section["ci_low"][bench][strategy][agg][n] <= series[n] + 1e-9
                    assert series[n] <= section["ci_high"][bench][strategy][agg][n] + 1e-9 <= 100 + 1e-9
    rows = curves.benchmarks == "alpha"
    assert section["curves"]["alpha"]["oracle"]["mean"]["8"] == round(100 * curves.get("oracle", None)[rows, 7].mean(), 4)


def test_table_rows_show_aggregation_free_strategies_once():
    section = curve_section(_curves(), ["mean", "min"], resamples=50)
    rows = table_rows(section, [1, 8], aggregation_free=["greedy", "oracle", "random"])
    keys = [(r.benchmark, r.strategy, r.aggregation) for r in rows]
    assert ("alpha", "oracle", None) in keys and ("alpha", "best_of_n", "min") in keys
    assert len([k for k in keys if k[1] == "oracle"]) == 2  # one per benchmark
    assert all(len(r.cells) == 2 for r in rows)
    assert default_ns(64) == [1, 2, 4, 8, 16, 32, 64] and default_ns(5) == [1, 2, 4, 5]


def test_plot_file_is_written_and_non_empty(tmp_path):
    section = curve_section(_curves(), ["mean"], resamples=50)
    path = plot_curves(section, tmp_path / "curves.png", aggregation="mean", title="test")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_unavailable_greedy_is_reported_not_invented():
    a = RunArrays.from_numpy([[True, False]], [[0, 1]], {"mean": [[0.1, 0.2]]})
    curves = compute_curves(a, ["greedy", "oracle"], ["mean"])
    assert "greedy" in curves.unavailable and curves.get("greedy", "mean") is None
    assert isinstance(curves, Curves)


# ------------------------------------------------------------------------------------ the plot's layout
def _card_curves(zero: str | None = None):
    """Curves of the seven benchmarks (shuffled order) where majority equals weighted vote, and ``zero`` is
    a benchmark answered wrong everywhere."""
    from tts.benchmarks import REASONING7

    benches = [b for b in reversed(REASONING7) for _ in range(6)]
    rng = np.random.default_rng(4)
    correct = rng.random((len(benches), 4)) < 0.5
    if zero:
        correct[np.array(benches) == zero] = False
    clusters = np.where(correct, 0, 1)
    a = RunArrays.from_numpy(correct, clusters, {"mean": rng.random(correct.shape)}, benchmarks=benches,
                             greedy=np.zeros(len(benches), int))
    return compute_curves(a, draws=50)


def test_plot_panels_follow_the_card_and_end_with_overall():
    import matplotlib.pyplot as plt

    from tts.analysis.plots import curve_figure
    from tts.analysis.tables import overall_curve_section

    curves = _card_curves(zero="wemath")
    section = curve_section(curves, ["mean"], resamples=50)
    section["overall_curves"] = overall_curve_section(curves, ["mean"], resamples=50)
    fig = curve_figure(section, aggregation="mean")
    try:
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
        assert titles == ["MMMU", "MathVista", "MathVision", "MathVerse", "DynaMath", "WeMath", "LogicVista", "Overall"]
        # one legend for the figure, outside every panel
        assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
        legend_top = fig.legends[0].get_window_extent(fig.canvas.get_renderer()).y1
        assert all(legend_top <= ax.get_window_extent().y0 for ax in fig.axes if ax.get_visible())
        # an all-zero panel spans 0..10, not matplotlib's -0.04..0.04
        wemath = next(ax for ax in fig.axes if ax.get_title() == "WeMath")
        assert wemath.get_ylim() == (0.0, 10.0)
        # majority and weighted vote coincide here, and still differ in line style and markers
        lines = {ln.get_label(): ln for ln in wemath.get_lines()}
        vote, maj = lines["weighted_vote (mean)"], lines["majority (mean)"]
        assert (vote.get_linestyle(), vote.get_marker()) != (maj.get_linestyle(), maj.get_marker())
        assert maj.get_zorder() > vote.get_zorder() and maj.get_markerfacecolor() != vote.get_markerfacecolor()
    finally:
        plt.close(fig)


def test_overall_curve_is_the_mean_of_the_benchmarks_with_a_stratified_interval():
    from tts.analysis.tables import overall_curve_section

    curves = _card_curves()
    section = curve_section(curves, ["mean"], resamples=50)
    overall = overall_curve_section(curves, ["mean"], resamples=200)
    assert overall["name"] == "Overall" and len(overall["benchmarks"]) == 7
    for n in ("1", "4"):
        mean = np.mean([section["curves"][b]["oracle"]["mean"][n] for b in section["curves"]])
        assert overall["curves"]["oracle"]["mean"][n] == pytest.approx(mean, abs=1e-3)
        assert overall["ci_low"]["oracle"]["mean"][n] <= mean <= overall["ci_high"]["oracle"]["mean"][n]
    two = _curves()  # alpha and beta: not the card's seven, so a plain "Mean"
    assert overall_curve_section(two, ["mean"], resamples=10)["name"] == "Mean"
    one = RunArrays.from_numpy([[True, False]], [[0, 1]], {"mean": [[0.1, 0.2]]})
    assert overall_curve_section(compute_curves(one, ["oracle"], ["mean"]), ["mean"]) is None
