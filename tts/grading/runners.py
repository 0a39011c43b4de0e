"""Where a symbolic operation runs: in this process under a soft timer, or in a pool of worker processes.

:mod:`tts.grading.symbolic` is handed one of these runners (:func:`tts.grading.symbolic.use_runner`)
instead of asking which process it is in. The parent process of a grading run uses a
:class:`PoolRunner` (SymPy never runs in the parent); a grading worker (:mod:`tts.grading.worker`) runs its
operations with an :class:`InProcessRunner`, under an interval timer on its own main thread, with the
parent's kill as the backstop.

Example:
    >>> InProcessRunner({"double": lambda x: 2 * x}).run("double", [21], timeout=1.0)
    Outcome(value=42, status='ok', cacheable=True)
    >>> InProcessRunner({}).run("missing", [], timeout=1.0).status
    'error'
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tts.grading import sandbox, symbolic_ops


@dataclass(frozen=True)
class Outcome:
    """What a bounded operation produced: ``status`` is ``ok``, ``timeout``, ``too_complex`` or ``error``."""

    value: Any
    status: str = "ok"
    cacheable: bool = field(default=True, compare=False)


class Runner(Protocol):
    """Runs one named operation of :data:`tts.grading.symbolic_ops.OPS` within ``timeout`` seconds."""

    def run(self, op: str, args: list[Any], timeout: float) -> Outcome: ...


class SoftTimeout(BaseException):
    """Raised in the running thread when an operation outlives its soft limit.

    A ``BaseException`` so that the ``except Exception`` blocks inside SymPy and math-verify let it through.
    """


def _on_alarm(signum: int, frame: Any) -> None:
    raise SoftTimeout()


@contextlib.contextmanager
def soft_deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`SoftTimeout` in this thread after ``seconds``; no-op without a limit.

    Signals reach only the main thread, so off the main thread this is a no-op too (the caller must then
    be a process that its parent can kill, which is what a grading worker is).
    """
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_op(ops: Mapping[str, Callable[..., Any]], name: str, args: list[Any], timeout: float | None) -> dict[str, Any]:
    """Run ``ops[name](*args)`` under a soft deadline; the reply a worker sends (``ok``, ``value``/``error``)."""
    fn = ops.get(name)
    if fn is None:
        return {"ok": False, "error": f"unknown operation {name!r}"}
    try:
        with soft_deadline(timeout):
            value = fn(*args)
    except SoftTimeout:
        return {"ok": False, "error": "timeout"}
    except MemoryError:
        return {"ok": False, "error": "out of memory"}
    except RecursionError:
        return {"ok": False, "error": "recursion too deep"}
    except Exception as exc:  # noqa: BLE001 - one bad input must never take the worker down
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"ok": True, "value": value}


def outcome_of(reply: Mapping[str, Any]) -> Outcome:
    """A worker reply as an :class:`Outcome`."""
    if reply.get("ok"):
        return Outcome(reply.get("value"))
    return Outcome(None, "timeout" if reply.get("error") == "timeout" else "error")


class InProcessRunner:
    """Runs operations in this process, each under a soft timer (only where this process may be killed)."""

    def __init__(self, ops: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.ops = dict(symbolic_ops.OPS if ops is None else ops)

    def run(self, op: str, args: list[Any], timeout: float) -> Outcome:
        return outcome_of(run_op(self.ops, op, args, timeout))


class PoolRunner:
    """Runs operations in worker processes (``pool``, default: this process's shared symbolic pool)."""

    def __init__(self, pool: sandbox.WorkerPool | None = None) -> None:
        self.pool = pool

    def run(self, op: str, args: list[Any], timeout: float) -> Outcome:
        pool = self.pool if self.pool is not None else sandbox.symbolic_pool()
        try:
            return Outcome(pool.call(op, args, timeout))
        except sandbox.WorkerTimeout:
            return Outcome(None, "timeout")
        except sandbox.WorkerError:
            return Outcome(None, "error")
