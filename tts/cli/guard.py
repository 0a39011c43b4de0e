"""The ``tts`` command line's guard: a signal or a full disk becomes one line and an exit status.

Why here and not in :mod:`tts.interrupts`: the guard writes the traceback to the run log
(:mod:`tts.logs`), and the log frees its disk reserve on a full disk (:func:`tts.interrupts.is_disk_full`);
kept in the low-level module, the two imported each other.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

from tts.interrupts import (
    Interrupted,
    disk_full_path,
    install,
    is_disk_full,
    resume_command,
    saved_summary,
    uninstall,
)
from tts.logs import current_run_log, log_exception


@contextlib.contextmanager
def cli_guard() -> Iterator[None]:
    """Wrap one ``tts`` command: signals and a full disk become one line and an exit status."""
    install()
    try:
        yield
    except Interrupted as exc:
        log = current_run_log()
        log_exception(logging.getLogger("tts.cli"), f"interrupted by {signal.Signals(exc.signum).name}", exc)
        print(f"interrupted by {signal.Signals(exc.signum).name}: {saved_summary()}; resume with: "
              f"{resume_command()}" + (f" (log: {log})" if log else ""), file=sys.stderr, flush=True)
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        log_exception(logging.getLogger("tts.cli"), "no space left on device", exc)  # the log first
        log = current_run_log()
        print(f"error: no space left on {disk_full_path(exc)}; free some space and run the same command again "
              "to resume" + (f" (traceback: {log})" if log else ""), file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    finally:
        uninstall()
