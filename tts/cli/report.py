"""``tts report RUN_DIR``: accuracy-vs-n for every strategy × aggregation, with intervals and a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def print_curve_table(report: dict[str, Any], ns: list[int], *, first_n: bool = False) -> None:
    """Rich table: benchmark × strategy × aggregation, accuracy [95% CI] at each chosen n."""
    from rich.console import Console
    from rich.table import Table

    from tts.analysis import table_rows

    section = report["first_n"] if first_n else report
    info = report["curve_info"]
    free = [s for s in ("greedy", "oracle", "random") if s in info["strategies"]]
    convention = "first n samples" if first_n else f"random n-subsets ({info['draws']} draws for votes)"
    table = Table(title=f"Accuracy (%) [95% CI], critic {info['critic'] or 'none'}, {convention}")
    for name in ("benchmark", "strategy", "aggregation"):
        table.add_column(name)
    for n in ns:
        table.add_column(f"n={n}", justify="right")
    for row in table_rows(section, ns, free):
        cells = [f"{a:.1f} [{lo:.0f}-{hi:.0f}]" if a is not None else "-" for a, lo, hi in row.cells]
        table.add_row(row.benchmark, row.strategy, row.aggregation or "-", *cells)
    Console().print(table)


def report(
    run_dir: Path = typer.Argument(..., help="Run directory (made by tts bestofn)."),
    n: list[int] = typer.Option([], "--n", help="n values shown in the table; repeat (default: powers of 2 and N)."),
    critic: str | None = typer.Option(None, help="Critic label (default: the run's only/first critic)."),
    strategy: list[str] = typer.Option([], help="Strategy; repeat (default: all)."),
    aggregation: list[str] = typer.Option([], help="mean|min|max|last|prod; repeat (default: all)."),
    first_n: bool = typer.Option(False, "--first-n", help="Show the 'first n samples' convention (papers, sal)."),
    draws: int = typer.Option(1000, help="Random n-subsets per n for majority/weighted vote (Monte Carlo)."),
    seed: int = typer.Option(0, help="Seed of the Monte Carlo draws and of the bootstrap."),
    rules: str = typer.Option("strict", "--rules", "--scoring", help="Grading rules: strict|official."),
    plot: bool = typer.Option(True, help="Write report-curves.png."),
    workers: int | None = typer.Option(None, help="Processes for the vote Monte Carlo (default: one per CPU)."),
) -> None:
    """Accuracy as a function of n from one run: every strategy × aggregation, 95% CIs, report.json and a plot.

    Example:

        tts report runs/bestofn-InternVL3-8B-VisualPRM-8B-n64 --n 8 --n 64 --aggregation mean --aggregation min
    """
    from rich.console import Console

    from tts.analysis import default_ns
    from tts.cli.render import print_comparison, print_cost
    from tts.rundir import RunDir
    from tts.stages.report import build_report

    run = RunDir.open(run_dir, create=False)
    result = build_report(run, rules, critic=critic, strategies=strategy or None, aggregations=aggregation or None,
                          draws=draws, seed=seed, plot=plot, plot_convention="first_n" if first_n else "subsets",
                          workers=workers, progress=True)
    console = Console()
    if "curve_info" not in result:
        console.print("[yellow]The run has no problems yet: nothing to report.[/]")
        return
    ns = sorted(set(n)) or default_ns(result["curve_info"]["n_samples"])
    print_curve_table(result, ns, first_n=first_n)
    print_comparison(result, console)
    print_cost(result, console)
    for name, why in result["curve_info"]["unavailable"].items():
        console.print(f"[yellow]{name}: not shown ({why})[/]")
    if "not_written" in result:
        console.print(f"[yellow]report files not written: {result['not_written']}[/]")
    else:
        console.print(f"wrote {run.path / 'report.json'}" + (f" and {run.path / result['plot']}" if "plot" in result else ""))


def register(app: typer.Typer) -> None:
    app.command("report")(report)
