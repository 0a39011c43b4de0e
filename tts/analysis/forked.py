"""Independent pieces of an offline analysis on forked worker processes.

Why processes, and why fork: the vote Monte Carlo is a long series of short numpy calls, so threads
serialise on the GIL (two threads measured slower than one on the 2-core reference machine), while two
processes run at full speed each. A forked child is a copy of this process, so it already holds the task
(a closure over tens of MB of batch tables) and just calls it: nothing is pickled on the way in, only the
small result on the way back, through one pipe per child. That is why each piece gets a plain
``multiprocessing`` process of the fork context rather than a pool: a pool pickles what it sends, which
closures cannot be, and working around that takes a module-global that the children read.
``forkserver`` and ``spawn`` would pickle the inputs and start a fresh interpreter (tenths of a second,
as long as the whole analysis). Results never depend on the number of workers: every piece is computed
by the same deterministic code wherever it runs.

Never fork a process that has other threads: the child gets only the forking thread, and a lock another
thread held at that instant (a console's, a logging handler's) stays locked in the child forever. So
:func:`forked_map` declines while other Python threads are alive (a notebook kernel's, a caller's pool)
and the caller computes in this process, with the same numbers; :mod:`tts.progress` bars have no refresh
thread for this reason.

Example:
    >>> forked_map(lambda i: i * i, 1) is None  # one piece: the caller computes serially
    True
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_WORKERS = 8
"""Worker processes at most when the caller asks for "as many as there are CPUs"."""


def can_fork() -> bool:
    """Fork-started workers are available (Linux: macOS's fork is unsafe with system frameworks), this
    process has no other thread (see the module docstring) and may have children (not a daemon)."""
    if threading.active_count() > 1:
        stop_tqdm_monitor()
    return (sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1 and not multiprocessing.current_process().daemon)


def stop_tqdm_monitor() -> None:
    """Stop tqdm's monitor thread and keep it from restarting.

    Why: the first tqdm bar of a process (``datasets`` loading a benchmark, transformers loading checkpoint
    shards) starts a daemon thread that lives until exit, so every real pipeline run would otherwise compute
    its report in one process. The thread only retunes slow bars' refresh interval; tqdm documents
    ``monitor_interval = 0`` as the way to turn it off."""
    std, monitors = sys.modules.get("tqdm.std"), sys.modules.get("tqdm._monitor")
    if std is None or monitors is None:
        return
    std.tqdm.monitor_interval = 0  # inherited by the subclasses (datasets', huggingface_hub's) that start it
    for thread in threading.enumerate():
        if isinstance(thread, monitors.TMonitor):
            thread.exit()  # sets its stop event and joins it


def available_workers() -> int:
    """How many workers "auto" means: the CPUs this process may run on (at most ``MAX_WORKERS``), or 1
    where workers cannot be forked."""
    if not can_fork():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - Linux always has it
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))


def resolve_workers(workers: int | None) -> int:
    """``None`` → :func:`available_workers`; otherwise at least 1."""
    return available_workers() if workers is None else max(1, int(workers))


def _run_piece(task: Callable[[int], Any], piece: int, send: Connection) -> None:
    """A child's whole life: compute one piece and send back ``(True, result)`` or ``(False, error)``."""
    try:
        reply: tuple[bool, Any] = (True, task(piece))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which raises it
        reply = (False, exc)
    try:
        send.send(reply)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an unpicklable result or exception
        detail = "".join(traceback.format_exception(reply[1])) if not reply[0] else repr(exc)
        send.send((False, RuntimeError(f"piece {piece} could not be sent back: {detail}")))
    finally:
        send.close()


def forked_map(task: Callable[[int], T], pieces: int) -> list[T] | None:
    """``[task(i) for i in range(pieces)]``, one process per piece: piece 0 in this process, the others in
    forked children, all at once (so make the pieces even). ``None`` when it cannot run that way (fewer
    than two pieces, no fork, other threads alive) or a child died without answering: the caller then
    computes serially. An exception raised by ``task`` itself propagates."""
    if pieces < 2 or not can_fork():
        if pieces >= 2 and threading.active_count() > 1:
            log.info("not forking worker processes while other threads are alive; computing in this process")
        return None
    context = multiprocessing.get_context("fork")
    children: list[tuple[ForkProcess, Connection]] = []
    answered = 0
    try:
        for piece in range(1, pieces):
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_run_piece, args=(task, piece, send), daemon=True)
            child.start()
            send.close()  # the child's copy is the only writer left: its death is an EOF here
            children.append((child, receive))
        results = [task(0)]
        for piece, (child, receive) in enumerate(children, start=1):
            try:
                ok, value = receive.recv()
            except EOFError:
                child.join()
                log.warning("worker process for piece %d died (exit code %s); computing in this process instead",
                            piece, child.exitcode)
                return None
            answered += 1
            if not ok:
                raise value
            results.append(value)
        return results
    except OSError as exc:  # no process or pipe could be made
        log.warning("worker processes failed (%s); computing in this process instead", exc)
        return None
    finally:
        for i, (child, receive) in enumerate(children):
            receive.close()
            if i >= answered:  # still computing: this call is failing, its result is not wanted
                child.terminate()
            child.join()


def forked_rows(compute: Callable[[np.ndarray], list[np.ndarray]], rows: int,
                workers: int) -> list[np.ndarray] | None:
    """``compute(np.arange(rows))`` for row-independent work (problems), the rows dealt round-robin to up
    to ``workers`` processes, so every share gets a like mix of easy and hard problems; ``compute``
    returns arrays whose first axis follows the rows it was given. ``None`` when it cannot run that way
    (see :func:`forked_map`)."""
    w = min(workers, rows)
    if w < 2:
        return None
    shares = [np.arange(g, rows, w) for g in range(w)]
    got = forked_map(lambda g: compute(shares[g]), w)
    if got is None:
        return None
    outs = [np.empty((rows, *part.shape[1:]), part.dtype) for part in got[0]]
    for share, parts in zip(shares, got):
        for out, part in zip(outs, parts):
            out[share] = part
    return outs
