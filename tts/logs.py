"""The run log: ``<run>/run.log`` gets every warning and every error's full traceback.

The terminal shows one clear line per error; the details a maintainer needs are in the log.

A full disk must not turn that around: the log handler never prints Python's "--- Logging error ---"
chains (a failed write is noted once on stderr), and the run's writer keeps a small reserve file
(``.run.log.reserve``, :func:`reserve_log_space`) beside the log. When the disk fills up, the handler and
:func:`log_exception` remove the reserve first, so the traceback still fits in ``run.log`` before the
terminal line is printed. The reserve goes when the writer closes the run or the process exits. A run
whose folder cannot be written (a read-only mount) gets no log; reading it still works.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import sys
from pathlib import Path

from tts.interrupts import is_disk_full

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RESERVE_NAME = ".run.log.reserve"
RESERVE_BYTES = 64 * 1024
"""Room kept for the last tracebacks of a command that fills the disk (a traceback is a few KiB)."""

_reserves: set[Path] = set()


class RunLogHandler(logging.FileHandler):
    """A file handler that fails quietly: one short note on stderr the first time the log cannot be
    written (full disk, removed folder), never a "--- Logging error ---" traceback per record."""

    broken: str | None = None

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT) and _reserves:
            free_reserves()  # what the reserve is for: the log stays writable on a full disk
            try:
                self.flush()  # the record is still buffered
                return
            except Exception:  # noqa: BLE001 - fall through to the one note below
                pass
        if self.broken is None:
            self.broken = f"{type(exc).__name__}: {exc}" if exc else "unknown error"
            with contextlib.suppress(Exception):
                print(f"warning: cannot write {self.baseFilename} ({self.broken})", file=sys.stderr)


class _QuietStreamHandler(logging.StreamHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - a closed stderr: nothing to do
        pass


def attach_run_log(run_path: str | Path, level: int = logging.INFO) -> Path:
    """Send the ``tts`` logger (and warnings of libraries) to ``<run>/run.log``; idempotent per path."""
    path = Path(run_path) / "run.log"
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path.resolve():
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RunLogHandler(path, encoding="utf-8", errors="backslashreplace")
    except OSError:  # a read-only run: readers still work, without a log
        return path
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler) for h in root.handlers):
        console = _QuietStreamHandler()  # stderr: warnings stay visible once a file handler exists
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        console.addFilter(lambda record: not record.exc_info)  # tracebacks go to the file only
        root.addHandler(console)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    logging.captureWarnings(True)
    return path


def reserve_log_space(run_path: str | Path) -> None:
    """Keep :data:`RESERVE_BYTES` for the run log's last tracebacks (called by the run's single writer).
    Real bytes (a sparse file would free nothing); best effort."""
    path = Path(run_path) / RESERVE_NAME
    if path in _reserves:
        return
    try:
        if not (path.is_file() and path.stat().st_size >= RESERVE_BYTES):
            with open(path, "wb") as f:
                f.write(b"\0" * RESERVE_BYTES)
                f.flush()
                os.fsync(f.fileno())
    except OSError:  # already full, read-only …: the log may then miss the last traceback, nothing else
        with contextlib.suppress(OSError):
            path.unlink()
        return
    _reserves.add(path)


def release_log_space(run_path: str | Path) -> None:
    """Remove a run's reserve file (its writer closes the run)."""
    path = Path(run_path) / RESERVE_NAME
    if path in _reserves:
        with contextlib.suppress(OSError):
            path.unlink()
        _reserves.discard(path)


def free_reserves() -> None:
    """Remove the reserve files (on a full disk, before the last traceback is logged; at exit)."""
    for path in list(_reserves):
        with contextlib.suppress(OSError):
            path.unlink()
        _reserves.discard(path)


atexit.register(free_reserves)


def log_exception(logger: logging.Logger, message: str, exc: BaseException) -> None:
    """Log ``message`` with ``exc``'s traceback to the run log, freeing the reserve first when the disk
    is full; then flush, so the traceback is on disk before the caller prints its terminal line."""
    if is_disk_full(exc):
        free_reserves()
    logger.error("%s", message, exc_info=(type(exc), exc, exc.__traceback__))
    for h in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            h.flush()


def current_run_log() -> Path | None:
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.FileHandler) and h.baseFilename.endswith("run.log"):
            return Path(h.baseFilename)
    return None
