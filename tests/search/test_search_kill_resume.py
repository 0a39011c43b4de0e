"""kill -9 a real search process (the stage on the tiny checkpoints, in its own process) while problems are
in flight, then resume it: the run ends with exactly the records of a clean run, none lost or duplicated,
and the kill lost at most the problems in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REPO
from tests.search.test_search_stage import snapshot
from tts.search.store import summary_file

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("stage_worker.py")


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _run(out: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, str(WORKER), str(out), "beam", *extra], cwd=REPO,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "run"
    proc = _run(out, "--batch-size", "2")
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    return snapshot(out)


def test_kill_then_resume_equals_a_clean_run(tmp_path, clean):
    out = tmp_path / "run"
    proc = _run(out, "--batch-size", "2", env={"TTS_STAGE_BATCH_DELAY": "0.3"})
    deadline = time.time() + 600
    while _lines(summary_file(out, "beam")) < 1:
        assert proc.poll() is None, f"the worker ended before the kill: {proc.stderr.read()[-3000:]}"
        assert time.time() < deadline, "timed out waiting for the first problem"
        time.sleep(0.01)
    time.sleep(0.2)  # inside the delay after a problem, or while the next ones are searched
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _lines(summary_file(out, "beam"))
    assert done < len(clean["summaries"]), "the search finished before the kill; the test proves nothing"
    resumed = _run(out, "--batch-size", "2")
    stdout, err = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, err[-3000:]
    assert f'"searched": {len(clean["summaries"]) - done}' in stdout  # only the problems not done are searched
    assert snapshot(out) == clean
