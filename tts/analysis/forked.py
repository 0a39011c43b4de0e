"""Independent pieces of an offline analysis on forked worker processes.

Why processes, and why fork: the vote Monte Carlo is a long series of short numpy calls, so threads
serialise on the GIL (two threads measured slower than one on the 2-core reference machine), while two
processes run at full speed each. Forked children inherit the inputs (tens of MB of batch tables) without
pickling them and send back only small count arrays. Results never depend on the number of workers: every
piece is computed by the same deterministic code wherever it runs.

Example:
    >>> forked_map(lambda i: i * i, 3, workers=1) is None  # one worker: the caller computes serially
    True
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_WORKERS = 8
"""Worker processes at most when the caller asks for "as many as there are CPUs"."""
_TASK: Callable[[int], Any] | None = None  # set in the parent just before the fork, inherited by the workers


def can_fork() -> bool:
    """Fork-started workers are available (Linux: macOS's fork is unsafe with system frameworks)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


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


def _call(i: int) -> Any:
    assert _TASK is not None, "forked worker without a task"
    return _TASK(i)


def forked_map(task: Callable[[int], T], count: int, workers: int) -> list[T] | None:
    """``[task(i) for i in range(count)]`` on up to ``workers`` processes: this one (piece 0) and forked
    ones (the other pieces, handed out one at a time, so list expensive pieces first). ``None`` when it cannot run that way (one worker or piece, no
    fork, or the pool failed to start or broke): the caller then computes serially. An exception raised
    by ``task`` itself propagates."""
    global _TASK
    if workers < 2 or count < 2 or not can_fork():
        return None
    _TASK = task
    try:
        # this process is one of the workers: it takes the first piece while the others run the rest
        with ProcessPoolExecutor(max_workers=min(workers, count) - 1,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            rest = [pool.submit(_call, i) for i in range(1, count)]
            first = task(0)
            return [first] + [f.result() for f in rest]
    except (BrokenProcessPool, OSError) as exc:
        log.warning("worker processes failed (%s); computing in this process instead", exc)
        return None
    finally:
        _TASK = None
