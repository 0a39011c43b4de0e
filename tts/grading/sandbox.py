"""Bounded worker processes: the only place where SymPy ever runs on model output.

Why a separate process: a SymPy computation cannot be interrupted from another thread, and math-verify's
own timeout uses ``signal.alarm``, which only works in a main thread. A child process can always be
killed. Each :class:`Worker` is ``python -m tts.grading.worker`` talking JSON lines over its stdin/stdout;
the caller waits for each reply with ``select`` and a deadline, which works from any thread and from inside
other worker processes (``subprocess`` children are allowed where ``multiprocessing`` daemons are not). A
worker that misses its deadline is killed and replaced on next use; the caller gets :class:`WorkerTimeout`.

Inside the worker a second, softer guard (an interval timer on its own main thread) stops slow SymPy work
early so the worker survives with its caches warm; the kill is the backstop for work stuck in C code.

Example:
    >>> pool = symbolic_pool()                       # doctest: +SKIP
    >>> pool.call("verify", ["\\\\frac{1}{2}", "0.5", 6, True], timeout=5.0)   # doctest: +SKIP
    True
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: Seconds one symbolic comparison may take inside a worker (soft limit). ``TTS_GRADING_TIMEOUT`` overrides.
DEFAULT_TIMEOUT = float(os.environ.get("TTS_GRADING_TIMEOUT", "5"))
#: Extra seconds the parent waits beyond the soft limit before it kills the worker.
KILL_GRACE = 2.0
#: Seconds a fresh worker may take to import SymPy and math-verify and say it is ready.
STARTUP_TIMEOUT = 120.0

_ROOT = str(Path(__file__).resolve().parents[2])

# What a worker runs before anything else (``python -c BOOTSTRAP MODULE``): a fresh interpreter (no fork of
# this process), whose sys.path loses the current folder that ``-c``/``-m`` put first and lists the standard
# library before everything else, so a stray ``concurrent.py`` or ``json.py`` in the folder where ``tts`` was
# started cannot shadow a standard module inside the worker. Only modules that the interpreter imported at
# start-up (before any path of the user is searched) are used until sys.path is fixed.
BOOTSTRAP = """\
import sys
base = sys.base_prefix
def stdlib(p):
    return p.startswith(base) and 'site-packages' not in p and 'dist-packages' not in p
paths = [p for p in sys.path[1:] if p not in ('', '.')]
sys.path[:] = [p for p in paths if stdlib(p)] + [p for p in paths if not stdlib(p)]
module = sys.argv[1]
del sys.argv[1]
import runpy
runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


def worker_command(module: str = "tts.grading.worker") -> list[str]:
    """The command that starts a worker running ``module`` as ``__main__``, isolated from the current folder."""
    return [sys.executable, "-c", BOOTSTRAP, module]


class WorkerError(RuntimeError):
    """A worker process died, answered garbage, or could not be started."""


class WorkerTimeout(WorkerError):
    """A worker missed its deadline and was killed."""


class Worker:
    """One ``tts.grading.worker`` child process; started lazily, restarted after a kill or a crash.

    ``argv`` replaces the command that starts it (tests start a worker with extra diagnostic operations).
    """

    def __init__(self, argv: Sequence[str] | None = None) -> None:
        self.argv = list(argv) if argv is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = b""
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.alive():
            return
        self.close()
        env = dict(os.environ)
        env["PYTHONPATH"] = _ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("PYTHONHASHSEED", "0")
        stderr = None if os.environ.get("TTS_GRADING_DEBUG") else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(
                self.argv or worker_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise WorkerError(f"cannot start a grading worker: {exc}") from exc
        self._buf = b""
        ready = self._read(time.monotonic() + STARTUP_TIMEOUT)
        if not ready.get("ready"):
            self.kill()
            raise WorkerError(f"grading worker did not start: {ready}")

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        self._buf = b""
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()

    def close(self) -> None:
        """Ask the worker to exit (closing its stdin), then make sure it is gone."""
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(Exception):
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=1)
        self.kill()

    def _read(self, deadline: float) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise WorkerError("grading worker is not running")
        fd = proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                self.restarts += 1
                raise WorkerTimeout("grading worker missed its deadline and was killed")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                code = proc.poll()
                self.kill()
                self.restarts += 1
                raise WorkerError(f"grading worker died (exit code {code})")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            reply = json.loads(line)
        except json.JSONDecodeError as exc:
            self.kill()
            raise WorkerError(f"grading worker sent a malformed reply: {line[:200]!r}") from exc
        if not isinstance(reply, dict):
            self.kill()
            raise WorkerError(f"grading worker sent a malformed reply: {line[:200]!r}")
        return reply

    def _send(self, message: dict[str, Any]) -> None:
        self.start()
        assert self._proc is not None and self._proc.stdin is not None
        # ASCII JSON: any text, even a lone surrogate, crosses the pipe as an escape.
        data = (json.dumps(message, ensure_ascii=True, default=str) + "\n").encode()
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise WorkerError(f"grading worker is gone: {exc}") from exc

    def request(self, message: dict[str, Any], replies: int, timeout: float) -> Iterator[dict[str, Any]]:
        """Send one request and yield its ``replies`` answers, each within ``timeout`` seconds of the last."""
        self._send(message)
        for _ in range(replies):
            yield self._read(time.monotonic() + timeout)

    def call(self, op: str, args: list[Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Run one operation; return its value or raise (:class:`WorkerTimeout`, :class:`WorkerError`)."""
        reply = next(self.request({"op": op, "args": args, "timeout": timeout}, 1, timeout + KILL_GRACE))
        if reply.get("ok"):
            return reply.get("value")
        if reply.get("error") == "timeout":
            raise WorkerTimeout(f"{op} took longer than {timeout:g}s")
        raise WorkerError(str(reply.get("error", "unknown worker error")))


class WorkerPool:
    """A few workers shared by the threads of one process; each call borrows one worker."""

    def __init__(self, size: int = 2, argv: Sequence[str] | None = None) -> None:
        self.size = max(1, size)
        self.argv = argv
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self._all: list[Worker] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def lease(self) -> Iterator[Worker]:
        worker: Worker | None = None
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                if len(self._all) < self.size:
                    worker = Worker(self.argv)
                    self._all.append(worker)
            if worker is None:
                worker = self._idle.get()
        try:
            yield worker
        finally:
            self._idle.put(worker)

    def call(self, op: str, args: list[Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
        with self.lease() as worker:
            return worker.call(op, args, timeout)

    def close(self) -> None:
        with self._lock:
            for worker in self._all:
                worker.close()


_POOL: WorkerPool | None = None
_POOL_PID: int | None = None
_POOL_LOCK = threading.Lock()


def symbolic_pool() -> WorkerPool:
    """This process's pool of symbolic workers (a forked child gets its own, never its parent's)."""
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or _POOL_PID != os.getpid():
            _POOL = WorkerPool(size=int(os.environ.get("TTS_GRADING_SYMBOLIC_WORKERS", "2")))
            _POOL_PID = os.getpid()
        return _POOL


@atexit.register
def _shutdown() -> None:
    if _POOL is not None and _POOL_PID == os.getpid():
        _POOL.close()
