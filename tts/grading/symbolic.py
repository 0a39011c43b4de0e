"""Symbolic checks, bounded: input caps first, then a worker process with a deadline.

Every function here returns a plain value and never raises or hangs: an input that is too long or too big
for SymPy, a timeout, or a crashed worker all read as "no verdict" (``False`` / ``None``) with the cause in
:attr:`Outcome.status`. Results are cached per process.

Where an operation runs is the business of the :class:`~tts.grading.runners.Runner` this layer is handed
(:func:`use_runner`): by default a :class:`~tts.grading.runners.PoolRunner` over this process's
:func:`tts.grading.sandbox.symbolic_pool`; a grading worker hands it an
:class:`~tts.grading.runners.InProcessRunner` (its own soft timer, the parent's kill as the backstop).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from tts.grading import sandbox
from tts.grading.complexity import MAX_ANSWER_CHARS, too_complex
from tts.grading.runners import Outcome, PoolRunner, Runner

__all__ = ["MAX_ANSWER_CHARS", "Outcome", "Runner", "budget", "call_budget", "current_runner", "too_complex",
           "use_runner"]
#: One grade, one ``equivalent`` call or one cluster comparison may spend this many symbolic timeouts in all.
BUDGET_FACTOR = 2

MAX_RESPONSE_CHARS = 6000
#: What math-verify's extraction reads of a response: its end, where the answer is.
EXTRACT_CHARS = 2000


_LOCAL = threading.local()
_DEFAULT_RUNNER: Runner = PoolRunner()
_runner: Runner = _DEFAULT_RUNNER


def current_runner() -> Runner:
    """The runner symbolic operations of this process go to."""
    return _runner


@contextlib.contextmanager
def use_runner(runner: Runner) -> Iterator[Runner]:
    """Run this process's symbolic operations with ``runner`` inside the block (then the previous one).

    Process-wide, not per thread: the threads of one process share one runner (a grading worker is
    single-threaded; a parent's threads all use its pool).
    """
    global _runner
    previous, _runner = _runner, runner
    try:
        yield runner
    finally:
        _runner = previous


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Bound all symbolic work of this thread inside the block to ``seconds`` in total (nested: the tighter).

    ``grade`` runs under one so that a response with many symbolic checks (one per option, per gold) still
    finishes in bounded time; a check cut short by the budget reads as a timeout and is not cached.
    """
    previous = getattr(_LOCAL, "deadline", None)
    deadline = time.monotonic() + seconds
    _LOCAL.deadline = deadline if previous is None else min(previous, deadline)
    try:
        yield
    finally:
        _LOCAL.deadline = previous


def call_budget() -> float:
    """Seconds of symbolic work one public call may spend (``BUDGET_FACTOR`` timeouts)."""
    return BUDGET_FACTOR * sandbox.DEFAULT_TIMEOUT


def volatile_count() -> int:
    """How many results of this thread were not cacheable (cut by a budget, or a worker failure).

    Callers that cache verdicts built on symbolic results compare it before and after to decide.
    """
    return getattr(_LOCAL, "volatile", 0)


def _mark_volatile() -> None:
    _LOCAL.volatile = volatile_count() + 1


def _time_left() -> float | None:
    deadline = getattr(_LOCAL, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()


class _Cache:
    """A bounded per-process memo that keeps verdicts and timeouts but not worker failures (retry those)."""

    def __init__(self, fn: Callable[..., Outcome], size: int) -> None:
        self.fn, self.size = fn, size
        self.data: OrderedDict[tuple, Outcome] = OrderedDict()
        self.lock = threading.Lock()
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __call__(self, *args: Any) -> Outcome:
        with self.lock:
            hit = self.data.get(args)
            if hit is not None:
                self.data.move_to_end(args)
                return hit
        out = self.fn(*args)
        if out.status == "error" or not out.cacheable:
            _mark_volatile()
        else:
            with self.lock:
                self.data[args] = out
                if len(self.data) > self.size:
                    self.data.popitem(last=False)
        return out

    def cache_clear(self) -> None:
        with self.lock:
            self.data.clear()


def _cached(size: int) -> Callable[[Callable[..., Outcome]], _Cache]:
    return lambda fn: _Cache(fn, size)


def run(op: str, args: list[Any], timeout: float | None = None) -> Outcome:
    """Run one :mod:`tts.grading.symbolic_ops` operation under a deadline, wherever we are."""
    timeout = sandbox.DEFAULT_TIMEOUT if timeout is None else timeout
    left = _time_left()
    truncated = left is not None and left < timeout
    if truncated:
        if left is None or left <= 0.05:
            return Outcome(None, "timeout", cacheable=False)
        timeout = left
    out = _dispatch(op, args, timeout)
    return Outcome(out.value, out.status, cacheable=not (truncated and out.status == "timeout"))


def _dispatch(op: str, args: list[Any], timeout: float) -> Outcome:
    return _runner.run(op, args, timeout)


@_cached(65536)
def verify(gold: str, pred: str, float_rounding: int = 6) -> Outcome:
    """math-verify's ``verify(parse(gold), parse(pred))`` on two answer strings, bounded and cached."""
    if too_complex(gold) or too_complex(pred):
        return Outcome(False, "too_complex")
    out = run("verify", [gold, pred, float_rounding, True])
    return out if out.status == "ok" else Outcome(False, out.status, cacheable=out.cacheable)


@_cached(16384)
def numeric_value(answer: str) -> Outcome:
    """The decimal value (a string) of a closed-form numeric answer such as ``2\\pi``; value None if none."""
    if too_complex(answer):
        return Outcome(None, "too_complex")
    return run("numeric_value", [answer])


@_cached(4096)
def extract(response: str) -> Outcome:
    """math-verify's extraction of the final LaTeX/expression answer of a response (its tail only).

    A tail holding something too big for SymPy (a factorial tower, a power tower ...) is not parsed: math-verify
    converts what it extracts, so the check comes first here too.
    """
    tail = response[-EXTRACT_CHARS:]
    if too_complex(tail, limit=EXTRACT_CHARS):
        return Outcome(None, "too_complex")
    return run("extract", [tail])


@_cached(16384)
def mathvision_value(latex: str) -> Outcome:
    """MATH-V's numeric reading of an answer (see :func:`tts.grading.symbolic_ops.mathvision_value`)."""
    if too_complex(latex):
        return Outcome(None, "too_complex")
    return run("mathvision_value", [latex])


def clear_caches() -> None:
    """Forget cached symbolic results (benchmarks use it to time cold runs)."""
    for fn in (verify, numeric_value, extract, mathvision_value):
        fn.cache_clear()
