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
    critic_label: str | None = typer.Option(None, help="Whose scores the curves use: scores/<label>.jsonl (default: "
                                                       "the run's only critic; required when it has several)."),
    strategy: list[str] = typer.Option([], help="Strategy; repeat (default: all). A subset is written to "
                                                "report-subset.json, never over report.json."),
    aggregation: list[str] = typer.Option([], help="mean|min|max|last|prod; repeat (default: all). A subset is "
                                                   "written to report-subset.json."),
    first_n: bool = typer.Option(False, "--first-n", help="Show the 'first n samples' convention (papers, sal)."),
    draws: int = typer.Option(1000, min=1, help="Random n-subsets per n for majority/weighted vote (Monte Carlo)."),
    seed: int = typer.Option(0, help="Seed of the Monte Carlo draws and of the bootstrap."),
    rules: str = typer.Option("strict", "--rules", help="Grading rules: strict|official."),
    plot: bool = typer.Option(True, help="Write report-curves.png."),
    workers: int | None = typer.Option(None, min=1, help="Processes for the vote Monte Carlo (default: one per CPU)."),
) -> None:
    """Accuracy as a function of n from one run: every strategy × aggregation, 95% CIs, report.json and a plot.

    Example:

        tts report runs/bestofn-InternVL3-8B-VisualPRM-8B-n64 --n 8 --n 64

    With --strategy or --aggregation the report covers only those, and is written to report-subset.json
    (report-subset-curves.png) so that report.json always holds the full report.
    """
    from rich.console import Console

    from tts.analysis import default_ns
    from tts.cli.render import print_comparison, print_cost
    from tts.logs import attach_run_log
    from tts.rundir import RunDir
    from tts.stages.report import build_report, report_files
    from tts.strategies import STRATEGIES, check_aggregation

    if rules not in ("strict", "official"):
        raise typer.BadParameter("must be 'strict' or 'official'", param_hint="--rules")
    for name in strategy:
        STRATEGIES.get(name)
    for name in aggregation:
        check_aggregation(name)
    run = RunDir.open(run_dir, create=False)
    attach_run_log(run.path)
    subset = bool(strategy or aggregation)
    result = build_report(run, rules, critic=critic_label, strategies=strategy or None, aggregations=aggregation or None,
                          draws=draws, seed=seed, plot=plot, plot_convention="first_n" if first_n else "subsets",
                          workers=workers, progress=True, name="report-subset" if subset else "report")
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
        return
    json_file, _ = report_files(rules, "report-subset" if subset else "report")
    written = f"wrote {run.path / json_file}" + (f" and {run.path / result['plot']}" if "plot" in result else "")
    console.print(written + (" (a subset: report.json is left as it was)" if subset else ""))


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("report", cls=renamed({"--critic": "--critic-label", "--scoring": "--rules"}))(report)
