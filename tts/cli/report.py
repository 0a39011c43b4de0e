"""``tts report RUN_DIR``: accuracy-vs-n for every strategy × aggregation, with intervals and a plot."""

from __future__ import annotations

from pathlib import Path

import typer

from tts.records import GRADING_RULES


def report(
    run_dir: Path = typer.Argument(..., help="Run directory (made by tts bestofn)."),
    n: list[int] = typer.Option([], "--n", min=1, help="n values shown in the table; repeat (default: the run's N)."),
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
    plot: bool = typer.Option(True, help="Write report-curves.png (and report-curves-<aggregation>.png for the others)."),
    all_aggregations: bool = typer.Option(False, "--all", help="Show every aggregation in the tables (default: mean, "
                                                               "or the one --aggregation names)."),
    workers: int | None = typer.Option(None, min=1, help="Processes for the vote Monte Carlo (default: one per CPU)."),
) -> None:
    """Accuracy as a function of n from one run: every strategy × aggregation, 95% CIs, report.json and a plot.

    Example:

        tts report runs/bestofn-InternVL3-8B-VisualPRM-8B-n64 --n 8 --n 64

    The table has the benchmarks as columns (and the card's Overall), one row per strategy at the run's N (or
    at each --n), under one aggregation (--all for every one); report.json and the plots hold everything.
    With --strategy or --aggregation the report covers only those, and is written to report-subset.json
    (report-subset-curves.png) so that report.json always holds the full report.
    """
    from tts.cli.render import (
        make_console,
        print_comparison,
        print_cost,
        print_curve_table,
        print_selection_table,
        print_warnings,
    )
    from tts.logs import attach_run_log
    from tts.rundir import RunDir
    from tts.stages.report import build_report, headline_aggregation, report_files
    from tts.strategies import STRATEGIES, check_aggregation

    if rules not in GRADING_RULES:
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
    console = make_console()
    if "curve_info" not in result:
        console.print("[yellow]The run has no rollouts yet: nothing to report.[/]")
        return
    info = result["curve_info"]
    ns = shown_ns(n, info["n_samples"])
    aggs = info["aggregations"] if all_aggregations else ([a for a in info["aggregations"] if a in aggregation]
                                                          or [headline_aggregation(info["aggregations"])])
    print_curve_table(result, ns, aggs, first_n=first_n, console=console)
    print_selection_table(result, console, aggregations=aggs)
    print_comparison(result, console)
    print_cost(result, console)
    print_warnings(result, console)
    if "not_written" in result:
        console.print(f"[yellow]report files not written: {result['not_written']}[/]")
        return
    json_file, _ = report_files(rules, "report-subset" if subset else "report")
    plots = list(result.get("plots", {}).values())
    written = f"wrote {run.path / json_file}" + (f" and {len(plots)} plot(s): {run.path / result['plot']}"
                                                 + (" …" if len(plots) > 1 else "") if plots else "")
    console.print(written + (" (a subset: report.json is left as it was)" if subset else ""), soft_wrap=True)


def shown_ns(asked: list[int], n_samples: int) -> list[int]:
    """The n values of the table: those asked for that the run has (a warning on stderr for the others),
    else the run's N."""
    too_large = sorted({k for k in asked if k > n_samples})
    if too_large:
        typer.echo(f"warning: --n {', '.join(map(str, too_large))}: the run has only N={n_samples} samples per "
                   "problem; not shown", err=True)
    return sorted({k for k in asked if k <= n_samples}) or [n_samples]


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("report", cls=renamed({"--critic": "--critic-label", "--scoring": "--rules"}))(report)
