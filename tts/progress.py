"""Rich progress bars for long stages: items done, rate (items/s) and ETA.

The bars redraw when work is reported (at most ``REFRESH_PER_SECOND`` times a second), not from a
refresh thread of their own: the offline analysis forks worker processes while its bar is open, and a
process must not fork while another of its threads may hold a lock (the console's), which would stay
locked forever in the child (see :mod:`tts.analysis.forked`). What is lost is only the time display
moving between two reports.

Example:
    >>> with progress_bar("sampling", total=3, unit="rollouts", enabled=False) as advance:
    ...     for _ in range(3):
    ...         advance(1)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

REFRESH_PER_SECOND = 10.0
"""Redraws per second at most (rich's own default rate)."""


def _ignore(k: int = 1) -> None:
    """``advance`` of a bar that is not shown."""


@contextmanager
def progress_bar(description: str, total: int, *, unit: str = "items", enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(k)``; shows a bar on stderr when ``enabled`` (a no-op otherwise)."""
    if not enabled or total <= 0:
        yield _ignore
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
        auto_refresh=False,  # no refresh thread (see the module docstring); the bar redraws in advance()
    ) as bar:
        task = bar.add_task(description, total=total)
        last = [time.monotonic()]

        def advance(k: int = 1) -> None:
            bar.advance(task, k)
            now = time.monotonic()
            if now - last[0] >= 1.0 / REFRESH_PER_SECOND or bar.tasks[0].finished:
                last[0] = now
                bar.refresh()

        bar.refresh()  # show the empty bar at once
        yield advance
