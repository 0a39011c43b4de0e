"""Rich progress bars for long stages: items done, rate (items/s) and ETA.

Example:
    >>> with progress_bar("sampling", total=3, unit="rollouts", enabled=False) as advance:
    ...     for _ in range(3):
    ...         advance(1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def progress_bar(description: str, total: int, *, unit: str = "items", enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(k)``; shows a bar on stderr when ``enabled`` (a no-op otherwise)."""
    if not enabled or total <= 0:
        yield lambda k=1: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.2f} {unit}/s" if speed else f"- {unit}/s", style="cyan")

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True), transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda k=1: bar.advance(task, k)
