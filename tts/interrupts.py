"""Signals and a full disk end a command with one line and a resumable run directory.

Why: a Slurm preemption sends SIGTERM and expects a prompt, clean exit; Ctrl-C sends SIGINT. Both may
arrive while a batch of records is being written. :func:`deferred` marks those few milliseconds as a
critical section: a signal that arrives inside one is held until the write (and its fsync) is complete,
then raised as :class:`Interrupted`. Outside a critical section it is raised at once, so the command
stops promptly (a model call in flight is abandoned; its records were never written, and the resume
regenerates them from the same seeds).

:func:`tts.cli.guard.cli_guard` wraps the ``tts`` command line: it installs the handlers and turns an
:class:`Interrupted` into one line (what is saved, the command that resumes) and exit status
``128 + signal`` (130 for SIGINT, 143 for SIGTERM); a full disk (``ENOSPC``/``EDQUOT``) into
``error: no space left on <path>`` after the traceback went to ``<run>/run.log``.

The handlers are only installed by the command line; library use (notebooks) keeps Python's defaults, and
:func:`deferred` is then a cheap no-op. This module imports nothing from ``tts`` at import time, so the
low-level writers (:mod:`tts.jsonl`) can use it.

Example:
    >>> with deferred():  # no handler installed: nothing is deferred, nothing happens
    ...     pass
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A ``BaseException`` (like ``KeyboardInterrupt``) so the stages' ``except
    Exception`` isolation never swallows it, and not a ``KeyboardInterrupt`` so click does not turn it
    into "Aborted!" with exit status 1."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_depth = 0  # nesting of deferred() sections in this process
_pending: int | None = None  # a signal received inside a deferred section
_installed_pid: int | None = None  # the process that installed the handlers (forked children do not inherit them)
_saved: dict[int, Any] = {}
_describers: list[Callable[[], str | None]] = []


def _handler(signum: int, frame: FrameType | None) -> None:
    global _pending
    if os.getpid() != _installed_pid:
        # A forked worker (grading, vote Monte Carlo) inherited this handler: behave as the default would.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    if _depth > 0:
        _pending = signum  # raised when the write in flight is complete
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A critical section (a batch write and its fsync, an atomic file replace): a SIGINT/SIGTERM that
    arrives inside it is raised as :class:`Interrupted` right after it, never in the middle."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def install() -> None:
    """Route SIGINT and SIGTERM through :func:`_handler` in this process (main thread only)."""
    global _installed_pid
    _installed_pid = os.getpid()
    for sig in HANDLED:
        _saved.setdefault(sig, signal.getsignal(sig))
        signal.signal(sig, _handler)


def uninstall() -> None:
    global _installed_pid
    for sig, previous in _saved.items():
        signal.signal(sig, previous)
    _saved.clear()
    _installed_pid = None


def on_interrupt(describe: Callable[[], str | None]) -> Callable[[], None]:
    """Register ``describe()``, called when a command is interrupted, for a short account of what is saved
    (the run directory registers one while a command writes it); returns a function that unregisters it."""
    _describers.append(describe)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            _describers.remove(describe)

    return remove


def resume_command(argv: list[str] | None = None) -> str:
    """The command line that resumes: the same one (every stage skips what is on disk)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(shlex.quote(a) for a in ["tts", *args])


def saved_summary() -> str:
    """What the registered describers say is saved (one part per open run)."""
    parts = []
    for describe in list(_describers):
        with contextlib.suppress(Exception):  # an account of what is saved must never fail the exit
            text = describe()
            if text:
                parts.append(text)
    return "; ".join(parts) or "every batch written before the signal is saved"


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def disk_full_path(exc: OSError) -> str:
    """The path a full-disk error was about (the writers attach it), else the current directory."""
    return str(exc.filename) if exc.filename else str(Path.cwd())
