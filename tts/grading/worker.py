"""The entry point of a grading worker process (started by :mod:`tts.grading.sandbox`); nothing imports it.

Protocol: one JSON object per line on stdin, replies one JSON object per line on stdout (the real stdout
is kept for the protocol; anything printed goes to stderr). The first line out is ``{"ready": true}``.

- ``{"op": NAME, "args": [...], "timeout": T}`` → ``{"ok": true, "value": ...}`` or
  ``{"ok": false, "error": "timeout" | MESSAGE}``; NAME is one of :data:`tts.grading.symbolic_ops.OPS`.
- ``{"op": "grade", "items": [{"response", "problem", "sample_idx"}...], "rules": S}`` → one
  ``{"grade": {...}}`` line per item, in order (so the parent can hold each item to its own deadline).

The symbolic layer is handed an :class:`~tts.grading.runners.InProcessRunner`: each operation runs under
an interval timer on this process's main thread (the soft limit), and the parent kills the whole process
if that is not enough. Address space is capped so a runaway expansion fails with ``MemoryError`` instead of
swapping the machine. Tests add diagnostic operations through :func:`main`'s ``extra_ops``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import IO, Any

from tts.grading import symbolic, symbolic_ops
from tts.grading.grader import grade
from tts.grading.runners import InProcessRunner, run_op
from tts.records import Problem

#: Address-space cap of a worker (bytes); ``TTS_GRADING_WORKER_MEMORY`` overrides, 0 disables.
MEMORY_LIMIT = int(os.environ.get("TTS_GRADING_WORKER_MEMORY", str(4 << 30)))


def _grade_items(message: Mapping[str, Any], out: IO[str]) -> None:
    rules = message.get("rules", "strict")
    for item in message.get("items", []):
        try:
            problem = Problem.from_json(item["problem"])
            result = grade(item.get("response"), problem, rules, sample_idx=int(item.get("sample_idx", 0)))
            reply: dict[str, Any] = {"grade": result.to_json()}
        except Exception as exc:  # noqa: BLE001 - reported per item, the batch goes on
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        out.write(json.dumps(reply, ensure_ascii=True) + "\n")
        out.flush()


def _limit_memory() -> None:
    if MEMORY_LIMIT <= 0:
        return
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(extra_ops: Mapping[str, Callable[..., Any]] | None = None) -> None:
    """Serve requests on stdin until it closes; ``extra_ops`` adds operations (tests' diagnostics)."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    _limit_memory()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
    ops = {**symbolic_ops.OPS, **(extra_ops or {})}
    with symbolic.use_runner(InProcessRunner(ops)):
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
            if not isinstance(message, dict):
                out.write('{"ok": false, "error": "malformed request"}\n')
                out.flush()
                continue
            if message.get("op") == "grade":
                _grade_items(message, out)
                continue
            reply = run_op(ops, str(message.get("op")), list(message.get("args", [])), message.get("timeout"))
            out.write(json.dumps(reply, ensure_ascii=True, default=str) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
