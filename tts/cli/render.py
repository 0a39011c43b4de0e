"""Printing reports as rich tables (shared by the commands that end a run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import JustifyMethod


def print_report(report: dict[str, Any], title: str = "Accuracy (%)") -> None:
    """Accuracy per benchmark and rule, the seeds' Overall, published numbers beside ours, and cost."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=title)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("benchmark", "left"), ("rule", "left"), ("accuracy", "right"), ("official metric", "right"),
        ("correct / total", "right"))
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for bench, rules in report.get("accuracy", {}).items():
        for rule, cell in rules.items():
            metric = report.get("metrics", {}).get(bench, {}).get(rule) or {}
            score = metric.get("score")
            table.add_row(bench, rule, f"{cell['accuracy']:.1f}", "-" if score is None else f"{score:.1f}",
                          f"{cell['correct']} / {cell['total']}")
    for rule, value in report.get("overall", {}).items():
        table.add_row("[bold]Overall[/]", rule, "", f"{value:.1f}", "mean of the seven")
    console.print(table)
    print_comparison(report, console)
    print_cost(report, console)
    for bench, note in report.get("official_notes", {}).items():
        console.print(f"[yellow]{bench}[/]: {note}")


def print_comparison(report: dict[str, Any], console: Any) -> None:
    """Published numbers beside ours, then the evaluation-fidelity settings the run used."""
    from rich.markup import escape
    from rich.table import Table

    from tts.stages.report_sections import fidelity_lines

    for expected_rule, block in report.get("comparison", {}).items():
        table = Table(title=f"Ours vs published: {expected_rule} (our rule: {block.get('rule') or 'not run'})")
        for name in ("benchmark", "ours", "published", "delta"):
            table.add_column(name, justify="left" if name == "benchmark" else "right")
        for bench, row in block["benchmarks"].items():
            ours = "-" if row["ours"] is None else f"{row['ours']:.1f}"
            delta = "-" if row["delta"] is None else f"{row['delta']:+.1f}"
            table.add_row(bench, ours, f"{row['expected']:.1f}", delta)
        console.print(table)
    for line in fidelity_lines(report.get("fidelity") or {}):
        console.print(escape(line))


def print_cost(report: dict[str, Any], console: Any) -> None:
    cost = report.get("cost")
    if not cost:
        return
    pol = cost["policy"]
    parts = [f"policy: {pol['rollouts']} rollouts, {pol['prompt_tokens']:,} prompt + {pol['completion_tokens']:,} "
             "completion tokens"]
    for label, c in cost.get("critics", {}).items():
        parts.append(f"critic {label}: {c['tokens']:,} tokens over {c['rollouts']} rollouts")
    if cost.get("seconds"):
        parts.append("wall s: " + ", ".join(f"{k} {v:.1f}" for k, v in cost["seconds"].items()))
    console.print("[dim]" + "; ".join(parts) + "[/]")
