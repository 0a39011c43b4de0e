"""The error contract (tts.errors): a TTSError is one line and exit 2; anything else is a bug, shown with
its traceback on the terminal and in the run's run.log, exit 1."""

from __future__ import annotations

import subprocess

import pytest

from tests.analysis.synthetic_run import make_run
from tests.conftest import PYTHON
from tts.errors import TTSError

pytest_plugins = ["tests.fixtures.cli_fixtures"]  # tts, detach_run_logs


def _bug(*args, **kwargs):
    raise ValueError("boom: an internal bug")  # a ValueError that is not a TTSError is a bug, not a typo


@pytest.mark.parametrize("command,target,run_log", [
    ("report", "tts.stages.report.build_report", True),
    ("select", "tts.stages.select.select_run", True),
    ("grade", "tts.stages.grade_run", True),
    ("pairs", "tts.pairs.make_pairs", True),
    ("problems", "tts.benchmarks.export.export_problems", False),
])
def test_an_internal_bug_shows_its_traceback(command, target, run_log, tts, tmp_path, monkeypatch):
    run = make_run(tmp_path / "run", problems=2, n=2)
    monkeypatch.setattr(target, _bug)
    args = {"pairs": ("pairs", run.path, "--out", tmp_path / "pairs"), "problems": ("problems", "demo", "--out",
            tmp_path / "p.jsonl")}.get(command, (command, run.path))
    result = tts(*args)
    assert result.exit_code == 1, result.output
    assert "Traceback (most recent call last)" in result.stderr and "ValueError: boom" in result.stderr
    assert "error: unexpected ValueError: boom: an internal bug (traceback above" in result.stderr
    if run_log:
        log = (run.path / "run.log").read_text()
        assert "Traceback (most recent call last)" in log and "boom: an internal bug" in log


@pytest.mark.parametrize("args,message", [
    (("report", "{run}", "--critic-label", "nope"), "has no scores from critic 'nope'"),
    (("select", "{run}", "--strategy", "best_of_m"), "unknown strategy 'best_of_m' (did you mean 'best_of_n'?)"),
    (("report", "{run}", "--aggregation", "median"), "unknown aggregation 'median'"),
    (("pairs", "{run}", "--method", "corectness", "--out", "{tmp}/p"), "did you mean 'correctness'"),
    (("report", "{tmp}/missing"), "is not a run directory"),
])
def test_a_user_error_is_one_line(args, message, tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    result = tts(*(a.format(run=run.path, tmp=tmp_path) for a in args))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and message in lines[0] and "Traceback" not in result.stderr
    assert all(line.startswith(("error:", "(details:")) for line in lines)


def test_user_errors_keep_their_traceback_in_the_run_log(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    result = tts("select", run.path, "--critic-label", "nope")
    assert result.exit_code == 2 and f"(details: {run.path / 'run.log'})" in result.stderr
    assert "Traceback" in (run.path / "run.log").read_text()


def test_every_user_facing_error_class_is_a_tts_error_and_keeps_its_old_base():
    from tts.benchmarks import BenchmarkError
    from tts.errors import ConfigError, UnknownName
    from tts.images import BadImage
    from tts.jsonl import JsonlCorruption
    from tts.records import RecordError
    from tts.rundir import ConfigConflict, RunDirError

    for cls, old in ((ConfigConflict, RuntimeError), (RunDirError, RuntimeError), (RecordError, ValueError),
                     (JsonlCorruption, ValueError), (BadImage, ValueError), (BenchmarkError, RuntimeError),
                     (ConfigError, ValueError), (UnknownName, KeyError)):
        assert issubclass(cls, TTSError) and issubclass(cls, old), cls


def test_set_with_a_wrong_type_is_one_line_through_the_entry_point(tmp_path, cli_env):
    for key in ("sampling.n", "n"):  # the nested key, and the deprecated flat one
        proc = subprocess.run([PYTHON, "-m", "tts", "run", "internvl3-8b_visualprm-bo8", "--set", f"{key}=eight",
                               "--out", str(tmp_path / "run")], capture_output=True, text=True, env=cli_env,
                              timeout=120)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert lines[-1] == "error: sampling.n must be an integer, got 'eight'" and "Traceback" not in proc.stderr
        assert len(lines) == (1 if key == "sampling.n" else 2)  # + one deprecation line for the flat key
        assert not (tmp_path / "run").exists()
