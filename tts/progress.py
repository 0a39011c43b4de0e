"""Progress of long stages: items done, rate and ETA, on a terminal and in a log file alike.

On a terminal (or in a notebook) a rich bar. When stderr is not a terminal (a Slurm job, ``nohup``, a
pipe), a bar cannot redraw, so rich's non-interactive console gets plain lines instead: one when the
stage starts, one every :func:`interval` seconds of work (``$TTS_PROGRESS_INTERVAL``, default 30) with
counts, rate and ETA, and one when it ends. For example::

    sampling: 1,600 rollouts to do
    sampling: 480/1,600 rollouts (30%), 2.41 rollouts/s, ETA 0:07:45
    sampling: done, 1,600 rollouts in 0:11:02 (2.42 rollouts/s)

(``stopped after`` instead of ``done,`` when the stage is interrupted or fails.) Rates count only the work done: ``advance(k, skipped=True)`` moves the bar over items that were not
worked on (already on disk, failed before any work), so a stage that skips most of its items does not
claim thousands of items a second, and the ETA is the remaining work at the rate of real work. A rate
is shown once a second of work has passed (before that it is noise).

Nothing here starts a thread: the bar and the lines are drawn when work is reported. The offline
analysis forks worker processes while its bar is open, and a process must not fork while another of its
threads may hold a lock (the console's), which would stay locked forever in the child (see
:mod:`tts.analysis.forked`). What is lost is only the time display moving between two reports.

Example:
    >>> with progress_bar("sampling", total=3, unit="rollouts", enabled=False) as advance:
    ...     advance(2)
    ...     advance(1, skipped=True)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

REFRESH_PER_SECOND = 10.0
"""Redraws per second at most (rich's own default rate)."""
DEFAULT_INTERVAL = 30.0
"""Seconds between two progress lines when the output is not a terminal."""
MIN_RATE_SECONDS = 1.0
"""Work time before a rate (and an ETA) is shown."""


class Advance(Protocol):
    def __call__(self, k: int = 1, *, skipped: bool = False) -> None: ...


def _ignore(k: int = 1, *, skipped: bool = False) -> None:
    """``advance`` of a bar that is not shown."""


def interval() -> float:
    """Seconds between progress lines in a log (``$TTS_PROGRESS_INTERVAL``; 0 prints every report)."""
    try:
        return max(0.0, float(os.environ.get("TTS_PROGRESS_INTERVAL", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def clock(seconds: float) -> str:
    """``h:mm:ss``.

    >>> clock(3725.4)
    '1:02:05'
    """
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class Tracker:
    """Counts of one stage: ``done`` items worked on, ``skipped`` items passed over, since ``start``."""

    total: int
    unit: str
    start: float = field(default_factory=lambda: time.monotonic())
    done: int = 0
    skipped: int = 0

    def add(self, k: int, skipped: bool) -> None:
        if skipped:
            self.skipped += k
        else:
            self.done += k

    @property
    def completed(self) -> int:
        return self.done + self.skipped

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.start

    def rate(self, now: float | None = None) -> float | None:
        """Items worked on per second, once :data:`MIN_RATE_SECONDS` have passed and some work was done."""
        elapsed = self.elapsed(now)
        if elapsed < MIN_RATE_SECONDS or not self.done:
            return None
        return self.done / elapsed

    def eta(self, now: float | None = None) -> float | None:
        rate = self.rate(now)
        return None if rate is None else max(0, self.total - self.completed) / rate

    def rate_text(self, now: float | None = None) -> str:
        rate = self.rate(now)
        return f"- {self.unit}/s" if rate is None else f"{rate:.2f} {self.unit}/s"

    def line(self, description: str, now: float | None = None) -> str:
        """A progress line: ``sampling: 480/1,600 rollouts (30%), 2.41 rollouts/s, ETA 0:07:45``."""
        pct = 100 * self.completed // max(1, self.total)
        text = f"{description}: {self.completed:,}/{self.total:,} {self.unit} ({pct}%)"
        if self.skipped:
            text += f", {self.skipped:,} skipped"
        eta = self.eta(now)
        return text + (f", {self.rate_text(now)}, ETA {clock(eta)}" if eta is not None else "")

    def final(self, description: str, now: float | None = None, *, stopped: bool = False) -> str:
        """The end line: ``sampling: done, 1,600 rollouts in 0:11:02 (2.42 rollouts/s)`` (``stopped after``
        when the stage was interrupted or failed)."""
        rate = self.rate(now)
        text = f"{description}: {'stopped after' if stopped else 'done,'} {self.done:,} {self.unit} in " \
               f"{clock(self.elapsed(now))}"
        text += f" ({rate:.2f} {self.unit}/s)" if rate is not None else ""
        if self.skipped:
            text += f", {self.skipped:,} skipped"
        if self.completed < self.total:
            text += f", {self.total - self.completed:,} not reached"
        return text


def announce(text: str, *, enabled: bool = True) -> None:
    """One line on stderr for a step without a bar (loading problems, loading a model): in a log it says
    what the job is doing before the first bar starts."""
    if enabled:
        from rich.console import Console

        Console(stderr=True).print(text, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(description: str, total: int, *, unit: str = "items", enabled: bool = True) -> Iterator[Advance]:
    """Yield ``advance(k, skipped=False)``; shows progress on stderr when ``enabled`` (a no-op otherwise)."""
    if not enabled or total <= 0:
        yield _ignore
        return
    from rich.console import Console

    console = Console(stderr=True)
    tracker = Tracker(total, unit)
    if console.is_terminal or console.is_jupyter:
        with _bar(console, description, tracker) as advance:
            yield advance
    else:
        with _lines(console, description, tracker) as advance:
            yield advance


@contextmanager
def _lines(console: Any, description: str, tracker: Tracker) -> Iterator[Advance]:
    """Plain lines for a log: at the start, every :func:`interval` seconds, and at the end."""
    every = interval()

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    say(f"{description}: {tracker.total:,} {tracker.unit} to do")
    last = [tracker.start]

    def advance(k: int = 1, *, skipped: bool = False) -> None:
        tracker.add(k, skipped)
        now = time.monotonic()
        if now - last[0] >= every and tracker.completed < tracker.total:
            last[0] = now
            say(tracker.line(description, now))

    try:
        yield advance
    except BaseException:
        say(tracker.final(description, stopped=True))
        raise
    say(tracker.final(description))


@contextmanager
def _bar(console: Any, description: str, tracker: Tracker) -> Iterator[Advance]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(tracker.rate_text(), style="cyan")

    class EtaColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            if task.finished:
                return Text(f"in {clock(tracker.elapsed())}", style="dim")
            eta = tracker.eta()
            return Text("ETA " + ("-:--:--" if eta is None else clock(eta)), style="dim")

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), EtaColumn(),
        console=console, transient=False,
        auto_refresh=False,  # no refresh thread (see the module docstring); the bar redraws in advance()
    ) as bar:
        task = bar.add_task(description, total=tracker.total)
        last = [time.monotonic()]

        def advance(k: int = 1, *, skipped: bool = False) -> None:
            tracker.add(k, skipped)
            bar.advance(task, k)
            now = time.monotonic()
            if now - last[0] >= 1.0 / REFRESH_PER_SECOND or bar.tasks[0].finished:
                last[0] = now
                bar.refresh()

        bar.refresh()  # show the empty bar at once
        yield advance


@contextmanager
def dataset_progress(*, enabled: bool = True) -> Iterator[Callable[[int, int | None, str], None]]:
    """The loaders' ``progress(done, total, label)`` callback drawn by :func:`tts.progress.progress_bar`: a
    bar on a terminal, plain lines with counts, rate and ETA in a log (one bar per dataset split, in turn)."""
    with ExitStack() as stack:
        current: dict[str, Any] = {"label": None, "advance": None, "done": 0}

        def progress(done: int, total: int | None, label: str) -> None:
            if label != current["label"]:
                stack.close()  # the previous split's bar ends (its final line) before the next starts
                current.update(label=label, done=0,
                               advance=stack.enter_context(progress_bar(label, total or 0, unit="rows",
                                                                           enabled=enabled)))
            current["advance"](done - current["done"])
            current["done"] = done

        yield progress
