import json
import subprocess

import pytest

from tests.conftest import PYTHON
from tts.records import Grade, Problem, Rollout, Selection, StepScores
from tts.rundir import RunDir

pytestmark = pytest.mark.slow


def test_tts_demo_end_to_end(tmp_path, cli_env, tiny):
    out = tmp_path / "demo"
    proc = subprocess.run([PYTHON, "-m", "tts", "demo", "--out", str(out), "--n", "3", "--max-new-tokens", "12"],
                          capture_output=True, text=True, env=cli_env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "meaningless" in proc.stdout and "tts bestofn --policy OpenGVLab/InternVL3-8B" in proc.stdout
    run = RunDir.open(out, create=False)
    problems = run.read(Problem)
    assert len(problems) == 6 and all((out / p.images[0]).exists() for p in problems)
    assert len(run.read(Rollout)) == 18
    assert len(run.read(StepScores, "visualprm")) == 18
    assert len(run.read(Grade)) == 18
    assert {s.strategy for s in run.read(Selection)} == {"best_of_n"}
    report = json.loads((out / "report.json").read_text())
    assert report["accuracy"]["demo"]["first_sample"]["total"] == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["sampling"]["n"] == 3 and manifest["models"]["policy"]["architecture"]

    # Same command again: everything is on disk, nothing is redone.
    again = subprocess.run([PYTHON, "-m", "tts", "demo", "--out", str(out), "--n", "3", "--max-new-tokens", "12"],
                           capture_output=True, text=True, env=cli_env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert len(RunDir.open(out, create=False).read(Rollout)) == 18

    # A conflicting setting is refused with one clear line naming the difference.
    before_conflict = (out / "manifest.json").read_text()
    conflict = subprocess.run([PYTHON, "-m", "tts", "demo", "--out", str(out), "--n", "3", "--max-new-tokens", "20"],
                              capture_output=True, text=True, env=cli_env, timeout=600)
    assert conflict.returncode == 2
    assert "sampling.max_new_tokens: the run has 12, this command asks for 20" in conflict.stderr
    # ... and it changed nothing: the manifest (its recipe included) is the one the resume left
    assert (out / "manifest.json").read_text() == before_conflict
    assert json.loads(before_conflict)["recipe"]["sampling"]["max_new_tokens"] == 12
