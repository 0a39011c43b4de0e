"""kill -9 a real ``tts critic-eval`` while it scores, resume it: the result equals a clean run's.

Also the command line's other promises: one writer per output folder, an outcome model reported as not
applicable (exit 0), a missing dataset as one error line (exit 2).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON
from tests.fixtures.visualprocessbench import ROWS, build_visualprocessbench

pytestmark = pytest.mark.slow


def _cmd(tiny, root: Path, out: Path, *extra: str) -> list[str]:
    return [PYTHON, "-m", "tts", "critic-eval", "--critic", str(tiny.critic), "--data-dir", str(root),
            "--out", str(out), *extra]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _result(out: Path) -> tuple[list[str], dict]:
    lines = (out / "scores.jsonl").read_text().splitlines()
    ids = [json.loads(line)["sample_id"] for line in lines]
    assert len(ids) == len(set(ids)) == len(ROWS), "lost or duplicated records"
    return sorted(lines, key=lambda line: json.loads(line)["sample_id"]), json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return build_visualprocessbench(tmp_path_factory.mktemp("hub"))


def test_kill_then_resume_equals_a_clean_run(tiny, root, tmp_path, cli_env):
    batch = "3"  # several solutions per critic call; batches of the file order: 0-2, 3-5, 6-8, 9
    clean = tmp_path / "clean"
    subprocess.run(_cmd(tiny, root, clean, "--batch-size", batch), check=True, capture_output=True, env=cli_env)
    out = tmp_path / "killed"
    env = {**cli_env, "TTS_STAGE_BATCH_DELAY": "1.0"}
    proc = subprocess.Popen(_cmd(tiny, root, out, "--batch-size", batch), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while _lines(out / "scores.jsonl") < 1:
        assert proc.poll() is None, "the run ended before writing anything"
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)
    # one writer per folder: a second process is refused while the first holds the folder
    second = subprocess.run(_cmd(tiny, root, out), capture_output=True, text=True, env=cli_env)
    assert second.returncode == 2 and "being written by another" in second.stderr
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _lines(out / "scores.jsonl")
    assert 0 < killed_at < len(ROWS), "the run finished before the kill; the test proves nothing"
    with open(out / "scores.jsonl", "ab") as f:  # a kill in the middle of a write leaves half a line
        f.write(b'{"sample_id": "vpb-00009", "source": "WeMath", "crit')
    resumed = subprocess.run(_cmd(tiny, root, out, "--batch-size", batch), capture_output=True, text=True,
                             env=cli_env)
    assert resumed.returncode == 0, resumed.stderr
    assert "Overall (pooled)" in resumed.stdout
    assert _result(out) == _result(clean)


def test_an_outcome_model_is_not_applicable_and_exits_0(tiny, tmp_path, cli_env):
    run = subprocess.run(_cmd(tiny, tmp_path / "no-data", tmp_path / "orm", "--critic-kind", "visualprm-orm"),
                         capture_output=True, text=True, env=cli_env)
    assert run.returncode == 0, run.stderr
    assert "not applicable" in run.stdout and "outcome reward model" in run.stdout


def test_a_missing_dataset_is_one_error_line(tiny, tmp_path, cli_env):
    run = subprocess.run(_cmd(tiny, tmp_path / "no-data", tmp_path / "out"), capture_output=True, text=True,
                         env=cli_env)
    assert run.returncode == 2
    assert run.stderr.startswith("error: visualprocessbench: no test.jsonl at ")
    assert "huggingface-cli download --repo-type dataset OpenGVLab/VisualProcessBench" in run.stderr
    assert "Traceback" not in run.stderr and "Traceback" in (tmp_path / "out" / "run.log").read_text()
