"""``python -m tts.grading.worker``: the child process behind :mod:`tts.grading.sandbox`.

Protocol: one JSON object per line on stdin, replies one JSON object per line on stdout (the real stdout
is kept for the protocol; anything printed goes to stderr). The first line out is ``{"ready": true}``.

- ``{"op": NAME, "args": [...], "timeout": T}`` → ``{"ok": true, "value": ...}`` or
  ``{"ok": false, "error": "timeout" | MESSAGE}``; NAME is one of :data:`tts.grading.symbolic_ops.OPS`.
- ``{"op": "grade", "items": [{"response", "problem", "sample_idx"}...], "rules": S}`` → one
  ``{"grade": {...}}`` line per item, in order (so the parent can hold each item to its own deadline).

Each operation runs under an interval timer on this process's main thread (the soft limit); the parent
kills the whole process if that is not enough. Address space is capped so a runaway expansion fails with
``MemoryError`` instead of swapping the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

#: Address-space cap of a worker (bytes); ``TTS_GRADING_WORKER_MEMORY`` overrides, 0 disables.
MEMORY_LIMIT = int(os.environ.get("TTS_GRADING_WORKER_MEMORY", str(4 << 30)))


class SoftTimeout(BaseException):
    """Raised inside a worker when an operation outlives its soft limit.

    A ``BaseException`` so that the ``except Exception`` blocks inside SymPy and math-verify let it through.
    """


def _on_alarm(signum: int, frame: Any) -> None:
    raise SoftTimeout()


@contextlib.contextmanager
def soft_deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`SoftTimeout` in this (main) thread after ``seconds``; no-op without a limit."""
    if not seconds or seconds <= 0:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _diagnostic_sleep(seconds: float) -> float:
    """Sleep (interruptible): lets tests prove that the soft limit fires."""
    time.sleep(float(seconds))
    return float(seconds)


def _diagnostic_hang(seconds: float) -> float:
    """Sleep with SIGALRM blocked, like work stuck in C code: lets tests prove that the parent kills."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(float(seconds))
    return float(seconds)


def run_op(name: str, args: list[Any], timeout: float | None) -> dict[str, Any]:
    from tts.grading.symbolic_ops import OPS

    ops = {**OPS, "_sleep": _diagnostic_sleep, "_hang": _diagnostic_hang}
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


def _grade_items(message: dict[str, Any], out: Any) -> None:
    from tts.grading.grader import grade
    from tts.records import Problem

    rules = message.get("rules", "strict")
    for item in message.get("items", []):
        try:
            problem = Problem.from_json(item["problem"])
            result = grade(item.get("response"), problem, rules, sample_idx=int(item.get("sample_idx", 0)))
            reply = {"grade": result.to_json()}
        except Exception as exc:  # noqa: BLE001 - reported per item, the batch goes on
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        out.write(json.dumps(reply, ensure_ascii=False) + "\n")
        out.flush()


def _limit_memory() -> None:
    if MEMORY_LIMIT <= 0:
        return
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main() -> None:
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    _limit_memory()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))

    from tts.grading import symbolic, symbolic_ops

    symbolic.IN_WORKER = True
    with contextlib.suppress(Exception):
        symbolic_ops.warm_up()
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            out.write('{"ok": false, "error": "malformed request"}\n')
            out.flush()
            continue
        if message.get("op") == "grade":
            _grade_items(message, out)
            continue
        reply = run_op(str(message.get("op")), list(message.get("args", [])), message.get("timeout"))
        out.write(json.dumps(reply, ensure_ascii=False, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
