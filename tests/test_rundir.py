import json

import pytest

from tts.records import Rollout
from tts.rundir import ConfigConflict, RunDir, RunDirError


def _rollout(i: int) -> Rollout:
    return Rollout("p", i, f"text {i}", "stop", 1, 1, 0.1, "m", "transformers", 0)


def test_new_run_has_a_manifest_with_versions(tmp_path):
    run = RunDir.open(tmp_path / "r")
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert m["schema_version"] == 1 and m["versions"]["python"] and m["created"]
    assert run.manifest["config"] == {}


def test_config_conflict_names_every_difference(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.bind("sampling", {"n": 8, "temperature": 0.7, "top_p": 0.95})
    run.bind("sampling", {"n": 8, "temperature": 0.7, "top_p": 0.95})  # same: fine
    again = RunDir.open(tmp_path / "r")
    with pytest.raises(ConfigConflict) as exc:
        again.bind("sampling", {"n": 4, "temperature": 1.0, "top_p": 0.95})
    msg = str(exc.value)
    assert "sampling.n: the run has 8, this command asks for 4" in msg
    assert "sampling.temperature: the run has 0.7, this command asks for 1.0" in msg
    assert "top_p" not in msg


def test_nested_sections_and_model_change(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.bind("critics.visualprm", {"model": "OpenGVLab/VisualPRM-8B"})
    run.bind("critics.other", {"model": "x"})
    with pytest.raises(ConfigConflict, match="critics.visualprm.model"):
        run.bind("critics.visualprm", {"model": "OpenGVLab/VisualPRM-8B-v1_1"})


def test_opening_a_run_drops_a_truncated_line(tmp_path, caplog):
    run = RunDir.open(tmp_path / "r")
    run.append([_rollout(0), _rollout(1)])
    with open(run.file("rollouts"), "ab") as f:
        f.write(b'{"problem_id": "p", "sample_idx": 2, "te')
    again = RunDir.open(tmp_path / "r")
    assert [r.sample_idx for r in again.rollouts()] == [0, 1]
    again.append([_rollout(2)])
    assert [r.sample_idx for r in again.rollouts()] == [0, 1, 2]
    assert "truncated" in caplog.text


def test_refuses_a_non_run_directory_and_newer_schema(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file.txt").write_text("hi")
    with pytest.raises(RunDirError, match="not empty"):
        RunDir.open(tmp_path / "x")
    with pytest.raises(RunDirError, match="no manifest"):
        RunDir.open(tmp_path / "missing", create=False)
    run = RunDir.open(tmp_path / "r")
    run.manifest["schema_version"] = 99
    run.save()
    with pytest.raises(RunDirError, match="schema version 99"):
        RunDir.open(tmp_path / "r")


def test_warnings_are_counted(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.add_warnings("problems", ["row 3: bad image", "row 9: bad options"])
    assert RunDir.open(tmp_path / "r").manifest["warnings"]["problems"]["count"] == 2
