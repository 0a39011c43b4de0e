"""Stage 0 on a run directory: resumes without double counting, and honours --ids and --strict."""

import pytest

from tts.benchmarks import BenchmarkError
from tts.config import RunConfig, apply_overrides
from tts.records import Problem
from tts.rundir import RunDir
from tts.stages import add_problems

pytest_plugins = ["tests.fixtures.pytest_fixtures"]  # hf_cache, reasoning7_root


def test_resuming_counts_each_skipped_row_once(reasoning7_root, tmp_path):
    run = RunDir.open(tmp_path / "run")
    first = add_problems(run, ["mathvista"], data_dir=reasoning7_root)
    again = add_problems(RunDir.open(run.path, create=False, write=True), ["mathvista"], data_dir=reasoning7_root)
    assert [p.id for p in again] == [p.id for p in first]
    run = RunDir.open(run.path, create=False)
    assert run.manifest["warnings"]["problems"]["count"] == 2  # one corrupt, one missing image
    assert len(run.read(Problem)) == len(first)


def test_ids_and_strict_reach_the_loader(reasoning7_root, tmp_path):
    run = RunDir.open(tmp_path / "run")
    picked = add_problems(run, ["mathvista"], data_dir=reasoning7_root, ids={"mathvista-testmini-2"})
    assert [p.id for p in picked] == ["mathvista-testmini-2"]
    assert "problems" not in run.manifest.get("warnings", {})  # the bad rows were not asked for
    with pytest.raises(BenchmarkError, match="--strict"):
        add_problems(RunDir.open(tmp_path / "strict"), ["mathvista"], data_dir=reasoning7_root, strict=True)


def test_run_config_carries_ids_and_strict():
    cfg = apply_overrides(RunConfig.of("p", "c"), ['data.ids=["mathvista-testmini-2", 7]', "data.strict=true"])
    assert cfg.data.ids == ("mathvista-testmini-2", "7") and cfg.data.strict is True
    assert RunConfig.of("p", "c").data.ids is None and RunConfig.from_mapping(cfg.to_json()) == cfg


def test_a_pipeline_log_gets_the_rows_read(reasoning7_root, tmp_path, monkeypatch, capsys):
    """tts bestofn / run / search read benchmarks through this stage: in a log (not a terminal) the rows read
    are plain progress lines per split, as tts problems prints them; nothing when progress is off."""
    monkeypatch.setenv("TTS_PROGRESS_INTERVAL", "0")
    add_problems(RunDir.open(tmp_path / "quiet"), ["mathvista"], data_dir=reasoning7_root)
    assert capsys.readouterr().err == ""
    add_problems(RunDir.open(tmp_path / "run"), ["mathvista"], data_dir=reasoning7_root, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert "mathvista:testmini: 6 rows to do" in lines
    assert any(line.startswith("mathvista:testmini: done, ") for line in lines)
