"""Printing reports as rich tables (shared by the commands that end a run)."""

from __future__ import annotations

from typing import Any


def print_report(report: dict[str, Any], title: str = "Accuracy (%)") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("benchmark")
    table.add_column("rule")
    table.add_column("accuracy", justify="right")
    table.add_column("correct / total", justify="right")
    for bench, rules in report.get("accuracy", {}).items():
        for rule, cell in rules.items():
            table.add_row(bench, rule, f"{cell['accuracy']:.1f}", f"{cell['correct']} / {cell['total']}")
    Console().print(table)
