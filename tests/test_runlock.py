"""One writer per run directory: the lock, its refusal message, its release on exit and crash, stale locks
left by another host, and readers that never take it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tts.rundir import ReadOnlyRun, RunDir, RunDirError
from tts.runlock import LOCK_NAME, RunBusy, acquire, break_lock, holder, read_owner, try_acquire

HOLD = """
import sys, time
from tts.rundir import RunDir
run = RunDir.open(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""

# A ttscale writer on another host of a shared file system: the same flock, another host name recorded.
REMOTE = """
import json, os, sys, time, filelock
def record(fd):
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": 4242, "host": "gpu-node-17", "since": "2026-01-01T00:00:00+00:00",
                              "command": "tts bestofn --out x", "purpose": "write"}).encode(), 0)
lock = filelock.FileLock(sys.argv[1] + "/.lock", blocking=False, preserve_lock_file=True, on_acquired=record)
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(code: str, run: Path, seconds: float = 60) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(run), str(seconds)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held", proc.stderr.read() if proc.stderr else ""
    return proc


# A writer caught creating the run: it holds the lock and its manifest is still a temporary file.
CREATING = """
import os, sys, time
from tts.runlock import acquire
os.makedirs(sys.argv[1])
lock = acquire(sys.argv[1])
open(os.path.join(sys.argv[1], ".manifest.json.tmp-%d" % os.getpid()), "w").close()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_writer_that_arrives_while_another_creates_the_run_is_refused_as_busy(tmp_path):
    # Seen in CI: two `tts bestofn` started together; the second saw the first's half-made directory and
    # said "exists, is not empty and has no manifest.json" instead of naming the writer.
    proc = _holder(CREATING, tmp_path / "run")
    try:
        with pytest.raises(RunBusy, match=f"is being written by PID {proc.pid}"):
            RunDir.open(tmp_path / "run")
    finally:
        proc.kill()
        proc.wait()


def test_a_foreign_directory_is_still_refused_and_left_untouched(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    with pytest.raises(RunDirError, match="is not empty and has no manifest.json"):
        RunDir.open(tmp_path / "notes")
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["todo.txt"]


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    RunDir.open(tmp_path / "run").close()
    proc = _holder(HOLD, tmp_path / "run")
    try:
        start = time.monotonic()
        with pytest.raises(RunBusy) as exc:
            RunDir.open(tmp_path / "run")
        assert time.monotonic() - start < 1.5, "a writer must be refused at once"
        msg = str(exc.value)
        assert f"is being written by PID {proc.pid} on {socket.gethostname()} since 20" in msg
        assert "RunDir.open" not in msg and f"kill {proc.pid}" in msg
        with pytest.raises(RunBusy):
            RunDir.open(tmp_path / "run", create=False, write=True)
        reader = RunDir.open(tmp_path / "run", create=False)  # readers never take the lock
        assert reader.manifest["schema_version"] == 1 and not reader.writable
        assert holder(tmp_path / "run").pid == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_the_kernel_releases_the_lock_of_a_killed_writer(tmp_path):
    RunDir.open(tmp_path / "run").close()
    proc = _holder(HOLD, tmp_path / "run")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert holder(tmp_path / "run") is None  # its record names a process that is gone
    with RunDir.open(tmp_path / "run") as run:  # no stale lock to break
        assert run.writable and read_owner(run.path).pid == os.getpid()
    assert read_owner(tmp_path / "run") is None  # released: nobody recorded


def test_one_process_may_open_its_run_twice_and_readers_cannot_write(tmp_path):
    first = RunDir.open(tmp_path / "run")
    second = RunDir.open(tmp_path / "run", create=False, write=True)  # same process: the same hold
    first.close()
    assert holder(tmp_path / "run").pid == os.getpid()  # still held by `second`
    second.close()
    assert holder(tmp_path / "run") is None
    reader = RunDir.open(tmp_path / "run", create=False)
    with pytest.raises(ReadOnlyRun, match="opened for reading"):
        reader.add_warnings("x", ["y"])
    with pytest.raises(ReadOnlyRun):
        reader.appender("rollouts")


def test_a_dropped_writer_object_gives_the_lock_back(tmp_path):
    RunDir.open(tmp_path / "run")  # never closed: garbage-collected at once
    with acquire(tmp_path / "run") as lock:
        assert lock.locked


def test_a_lock_left_on_another_host_is_reported_with_how_to_break_it(tmp_path):
    run = tmp_path / "run"
    RunDir.open(run).close()
    proc = _holder(REMOTE, run)
    try:
        with pytest.raises(RunBusy) as exc:
            RunDir.open(run)
        msg = str(exc.value)
        assert "PID 4242 on gpu-node-17 since 2026-01-01T00:00:00+00:00 (tts bestofn --out x)" in msg
        assert "ssh gpu-node-17 ps -p 4242" in msg and f"tts doctor {run} --break-lock" in msg
        owner = break_lock(run)  # cannot check a remote PID: set the lock aside (kept in quarantine/)
        assert owner is not None and owner.host == "gpu-node-17"
        kept = list((run / "quarantine").glob("lock-*.json"))
        assert len(kept) == 1 and json.loads(kept[0].read_text())["pid"] == 4242
        with RunDir.open(run) as again:
            assert again.writable
    finally:
        proc.kill()
        proc.wait()


def test_breaking_refuses_a_live_local_writer_and_ignores_a_free_lock(tmp_path):
    run = tmp_path / "run"
    RunDir.open(run).close()
    assert break_lock(run) is None and (run / LOCK_NAME).exists()
    proc = _holder(HOLD, run)
    try:
        with pytest.raises(RunBusy, match="still runs"):
            break_lock(run)
    finally:
        proc.kill()
        proc.wait()


def test_report_output_is_skipped_not_refused_while_a_writer_runs(tmp_path):
    run = tmp_path / "run"
    RunDir.open(run).close()
    with try_acquire(run) as lock:
        assert lock is not None and read_owner(run).purpose == "report"
    proc = _holder(HOLD, run)
    try:
        with try_acquire(run) as lock:
            assert lock is None
    finally:
        proc.kill()
        proc.wait()
