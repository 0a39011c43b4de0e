"""``tts compare RUN...``: accuracy against generated tokens per problem for sampled and searched runs."""

from __future__ import annotations

from pathlib import Path

import typer

from tts.records import GRADING_RULES


def compare(
    runs: list[Path] = typer.Argument(..., help="Run directories: sampled (Best-of-N) and searched runs."),
    out: Path = typer.Option(Path("compare"), help="Folder for compare.json and compare.png (the runs are only read)."),
    critic_label: str | None = typer.Option(None, help="Whose scores: scores/<label>.jsonl (default: each run's only critic)."),
    aggregation: str | None = typer.Option(None, help="Score aggregation for the strategies (default: a search run's "
                                                      "own ranking aggregation, mean for sampled runs)."),
    strategy: list[str] = typer.Option(["best_of_n", "weighted_vote"], help="Strategies to plot; repeatable."),
    rules: str = typer.Option("strict", "--rules", help="Grading rules: strict|official."),
    seed: int = typer.Option(0, help="Seed of the vote Monte Carlo and of the bootstrap."),
) -> None:
    """Which strategy wins at which budget: Best-of-N and weighted vote (every n of a sampled run) beside beam
    search, DVTS and particle filtering (one run per budget), accuracy with 95% intervals against generated
    policy tokens and critic tokens per problem.

    Example:

        tts compare runs/bo64 runs/beam-n4 runs/beam-n16 runs/beam-n64 runs/dvts-n16 runs/particle-n16 --out runs/compare
    """
    from rich.console import Console
    from rich.table import Table

    from tts.jsonl import write_json_atomic
    from tts.search.compare import compare_runs
    from tts.search.compare_plot import plot_comparison
    from tts.strategies import check_aggregation

    if rules not in GRADING_RULES:
        raise typer.BadParameter("must be 'strict' or 'official'", param_hint="--rules")
    if aggregation is not None:
        check_aggregation(aggregation)
    result = compare_runs(runs, critic=critic_label, aggregation=aggregation, strategies=strategy, rules=rules,
                          seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "compare.json", result)
    plot = plot_comparison(result, out / "compare.png")
    console = Console()
    table = Table(title=f"Accuracy (%) [95% CI] vs tokens per problem, {result['problems']} problems")
    for name in ("series", "strategy", "n", "policy tokens", "critic tokens", "accuracy"):
        table.add_column(name, justify="left" if name in ("series", "strategy") else "right")
    for s in result["series"]:
        for p in s["points"]:
            table.add_row(s["label"], f"{s['strategy']} ({s['aggregation']})", str(p["n"]), f"{p['policy_tokens']:,.0f}",
                          f"{p['critic_tokens']:,.0f}", f"{p['accuracy']:.1f} [{p['ci_low']:.1f}-{p['ci_high']:.1f}]")
    console.print(table)
    for w in result["warnings"]:
        console.print(f"[yellow]{w}[/]")
    console.print(f"wrote {out / 'compare.json'} and {plot}")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
