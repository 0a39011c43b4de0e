"""One writer per run directory: an advisory lock on ``<run>/.lock``, held by every command that writes.

Why: two processes appending to one run (the same command started twice, a Slurm requeue while the old
job still runs) duplicate rollouts, score and grade them once per process and overwrite each other's
manifest. Every writer therefore takes this lock before it reads what is done; a second writer is refused
at once with ``run … is being written by PID P on HOST since T``. Readers (``tts.open_run``, ``tts report``
looking at a run in progress, ``tts doctor`` without ``--repair``) never take it.

How: the ``filelock`` package's Unix lock, i.e. ``flock(2)`` on ``.lock``. The kernel releases it when the
holder exits or crashes (even ``kill -9``), so a lock is never left behind on one machine; filelock also
closes the descriptor in forked workers, so a grading or Monte Carlo worker that outlives a killed parent
does not keep the run locked. The holder writes who it is (PID, host, start time, command) into the locked
file itself, so the refusal can name it. Why filelock rather than calling ``fcntl.flock`` directly: it
handles the races of lock files (a file unlinked or replaced while a peer waits, descriptors inherited by
forks) that a hand-written flock gets wrong, and it is already installed with ``torch``.

On a shared file system (NFS, Lustre with ``flock``) the lock spans hosts. If a node crashes, its lock can
outlive it until the file server notices; the refusal then says the holder runs on another host, how to
check it, and that ``tts doctor RUN --break-lock`` sets the lock aside. A file system without ``flock``
support is reported once and the command goes on unlocked (there is nothing to lock with).

Within one process the lock is re-entrant: opening the same run for writing twice shares one hold.

Who writes: ``tts bestofn``, ``run`` and ``demo`` (the whole pipeline, until the report and any pairs are
written), ``sample``, ``score``, ``grade RUN``, ``select``, ``merge`` (the merged run), ``pairs --method
dropout-ntp`` (its continuations live in the run), ``doctor --repair`` and ``doctor --break-lock``. Who
only reads: ``tts.open_run``, ``tts report`` and ``tts doctor``. ``tts report`` writes its own files
(``report.json``, the plot) only when it can take the lock at once (purpose ``"report"``); while another
process writes the run it prints the report and leaves the files to that writer, which writes them when it
finishes. ``tts problems --out FILE`` and ``tts pairs --out DIR`` write outside any run directory.

Example:
    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> with acquire(run) as lock:
    ...     holder(run).pid == os.getpid()
    True
    >>> holder(run) is None
    True
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import logging
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tts.errors import TTSError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
PATIENCE_SECONDS = 2.0
"""How long a writer waits for a *brief* holder (a report being written, a holder that has not yet said
who it is) before refusing; a holder that is writing the run is refused at once."""

_NO_LOCK_ERRNOS = frozenset({errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK})


class RunBusy(TTSError, RuntimeError):
    """Another process holds the run directory's writer lock."""


@dataclass(frozen=True)
class Owner:
    """Who holds (or last held) a run's lock, as it recorded itself in the lock file."""

    pid: int
    host: str
    since: str
    command: str
    purpose: str = "write"  # "write": a command writing records; "report": writing report files only
    started: float | None = None  # the process's start time (Linux), to tell a reused PID apart

    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def alive(self) -> bool | None:
        """Whether the holder still runs; ``None`` when that cannot be checked (another host)."""
        if not self.on_this_host():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # another user's process: alive
        started = _process_start(self.pid)
        return self.started is None or started is None or abs(started - self.started) < 1e-6

    def describe(self) -> str:
        command = f" ({self.command})" if self.command else ""
        return f"PID {self.pid} on {self.host} since {self.since}{command}"


def _process_start(pid: int) -> float | None:
    """Start time of a process in clock ticks since boot (Linux), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return float(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _command_line() -> str:
    """This process's command, as the holder's description shows it (``tts bestofn …``)."""
    argv = list(sys.argv) or ["python"]
    prog = Path(argv[0]).name
    if prog == "tts" or argv[0].endswith(os.path.join("tts", "__main__.py")):
        prog = "tts"
    return " ".join([prog, *argv[1:]])[:300]


def lock_path(run_path: str | Path) -> Path:
    return Path(run_path) / LOCK_NAME


def read_owner(run_path: str | Path) -> Owner | None:
    """The owner recorded in the lock file (``None`` when there is none or it is unreadable). Reading takes
    no lock and writes nothing."""
    try:
        data = json.loads(lock_path(run_path).read_bytes() or b"null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Owner(pid=int(data["pid"]), host=str(data["host"]), since=str(data.get("since", "?")),
                     command=str(data.get("command", "")), purpose=str(data.get("purpose", "write")),
                     started=data.get("started"))
    except (KeyError, TypeError, ValueError):
        return None


def holder(run_path: str | Path) -> Owner | None:
    """The process writing the run now, as far as a reader can tell without locking: the recorded owner
    unless it is known to have exited (a holder on another host is assumed alive)."""
    owner = read_owner(run_path)
    if owner is None or owner.alive() is False:
        return None
    return owner


def busy_message(run_path: str | Path, owner: Owner | None) -> str:
    run = str(run_path)
    if owner is None:
        return (f"run {run} is being written by another process (it has not recorded its PID); "
                "try again in a moment")
    text = f"run {run} is being written by {owner.describe()}"
    if owner.on_this_host():
        return text + f"; wait for it to finish (or stop it: kill {owner.pid}), then run this command again"
    return (text + f". It runs on another host: if that job is gone (its node crashed), the lock is stale; check "
            f"with `ssh {owner.host} ps -p {owner.pid}`, then break it with `tts doctor {run} --break-lock`")


class _Hold:
    """This process's hold on one run's lock, shared by every writer of that run in the process."""

    def __init__(self, key: str, lock: Any, purpose: str) -> None:
        self.key = key
        self.lock = lock
        self.purpose = purpose
        self.fd: int | None = None
        self.count = 0


_HOLDS: dict[str, _Hold] = {}
_warned_unlocked: set[str] = set()

if hasattr(os, "register_at_fork"):  # a forked child holds nothing (filelock closes its copy of the descriptor)
    os.register_at_fork(after_in_child=_HOLDS.clear)


class WriterLock:
    """A handle on a run's writer lock; :meth:`release` (or leaving the ``with`` block) gives it back."""

    def __init__(self, run_path: Path, hold: _Hold | None) -> None:
        self.run_path = run_path
        self._hold = hold
        self._released = False

    @property
    def locked(self) -> bool:
        """False when the file system offers no locks and the command runs unlocked."""
        return self._hold is not None and not self._released

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        hold = self._hold
        if hold is None:
            return
        hold.count -= 1
        if hold.count > 0:
            return
        _HOLDS.pop(hold.key, None)
        with contextlib.suppress(OSError):
            if hold.fd is not None:
                os.ftruncate(hold.fd, 0)  # no owner recorded = nobody holds it
        hold.lock.release()

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(run_path: str | Path, *, purpose: str = "write", patience: float = PATIENCE_SECONDS) -> WriterLock:
    """Take the run's writer lock or raise :class:`RunBusy` naming the holder.

    ``purpose="report"`` marks a short hold (writing report files); writers wait up to ``patience``
    seconds for such a holder instead of refusing.
    """
    import filelock

    run_path = Path(run_path)
    key = os.path.realpath(lock_path(run_path))
    hold = _HOLDS.get(key)
    if hold is not None:
        hold.count += 1
        return WriterLock(run_path, hold)

    def record_owner(fd: int) -> None:
        owner = Owner(pid=os.getpid(), host=socket.gethostname(), since=_now(), command=_command_line(),
                      purpose=purpose, started=_process_start(os.getpid()))
        data = json.dumps(asdict(owner)).encode("utf-8", "backslashreplace")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        new.fd = fd

    lock = filelock.FileLock(key, blocking=False, thread_local=False, is_singleton=False,
                             preserve_lock_file=True, on_acquired=record_owner)
    new = _Hold(key, lock, purpose)
    deadline = time.monotonic() + patience
    while True:
        try:
            lock.acquire()
            break
        except filelock.Timeout:
            owner = read_owner(run_path)
            if (owner is None or owner.purpose != "write") and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise RunBusy(busy_message(run_path, owner)) from None
        except OSError as exc:
            if exc.errno not in _NO_LOCK_ERRNOS:
                raise
            if key not in _warned_unlocked:
                _warned_unlocked.add(key)
                log.warning("%s: this file system does not support file locks (%s); writing without a lock: "
                            "make sure no other command writes this run at the same time", run_path,
                            os.strerror(exc.errno or 0))
            return WriterLock(run_path, None)
    new.count = 1
    _HOLDS[key] = new
    return WriterLock(run_path, new)


@contextlib.contextmanager
def try_acquire(run_path: str | Path, *, purpose: str = "report"):
    """Yield a held lock, or ``None`` when another process writes the run (never waits, never raises
    :class:`RunBusy`): for output a reader may skip, such as ``report.json`` while the run is written."""
    try:
        lock = acquire(run_path, purpose=purpose, patience=0.0)
    except RunBusy:
        yield None
        return
    try:
        yield lock
    finally:
        lock.release()


def break_lock(run_path: str | Path) -> Owner | None:
    """Set a stale lock aside (moved to ``quarantine/``, never deleted) so the next writer can start.

    Refused (:class:`RunBusy`) while the holder is known to run on this host; does nothing when the lock is
    free. Returns the owner whose lock was set aside.
    """
    import filelock

    run_path = Path(run_path)
    path = lock_path(run_path)
    if not path.exists():
        return None
    owner = read_owner(run_path)
    if owner is not None and owner.alive():
        raise RunBusy(f"{busy_message(run_path, owner)}; it still runs, so its lock is not stale")
    probe = filelock.FileLock(str(path), blocking=False, thread_local=False, preserve_lock_file=True)
    try:
        probe.acquire()
    except filelock.Timeout:
        pass  # held: by a process on another host (or one this host cannot see)
    else:
        probe.release()
        return None  # free: nothing to break
    aside = run_path / "quarantine" / f"lock-{_dt.datetime.now().strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.json"
    aside.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, aside)
    log.info("%s: set aside the lock of %s (kept in %s)", run_path,
                owner.describe() if owner else "an unknown process", aside)
    return owner


@contextlib.contextmanager
def writing_into(run_path: str | Path, target: str | Path):
    """Hold the run's writer lock while ``target`` (a file a command writes) lies inside the run directory;
    otherwise do nothing (writing elsewhere does not touch the run)."""
    run_path, target = Path(run_path).resolve(), Path(target).resolve()
    if not target.is_relative_to(run_path):
        yield None
        return
    with acquire(run_path) as lock:
        yield lock
