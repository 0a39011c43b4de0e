"""``tts problems``: writes problem records with rendered prompts, decoding every image; bad rows are reported."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tts.cli import COMMAND_MODULES, build_app
from tts.images import load_rgb
from tts.records import Problem

pytest_plugins = ["tests.fixtures.pytest_fixtures"]  # hf_cache, reasoning7_root


def run(*args: str):
    return CliRunner().invoke(build_app(), ["problems", *args])  # the real group: its error contract included


def test_writes_records_with_prompt_and_images(reasoning7_root, tmp_path):
    out = tmp_path / "out" / "mathvista.jsonl"
    result = run("mathvista:testmini", "--data-dir", str(reasoning7_root), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 4 problems" in result.output and "skipped 2 bad row(s)" in result.output
    assert "warning: mathvista:testmini row 4 (mathvista-testmini-5): undecodable image" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"mathvista-testmini-{i}" for i in (1, 2, 3, 4)]
    for row in rows:
        problem = Problem.from_json(row)
        assert row["n_images"] == len(problem.images) == row["prompt"].count("<image>") == 1
        assert load_rgb(out.parent / problem.images[0]).mode == "RGB"
    assert rows[0]["prompt"].startswith("<image>\nHint: Please answer the question and provide the correct option")


def test_options_limit_ids_prompt_set_and_env(reasoning7_root, tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_DATA_DIR", str(reasoning7_root))
    out = tmp_path / "mv.jsonl"
    result = run("mathverse", "--subset", "vision_dominant,vision_only", "--limit", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [
        "mathverse-testmini-4", "mathverse-testmini-5", "mathverse-testmini-9"]
    result = run("mathvista", "--ids", "mathvista-testmini-2", "--prompt-set", "mathvista_official", "--out", str(out))
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["prompt"] == "<image>\n" + row["meta"]["query"]


def test_group_and_multi_image(reasoning7_root, tmp_path):
    out = tmp_path / "r7.jsonl"
    result = run("reasoning7", "--data-dir", str(reasoning7_root), "--limit", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 14 and [r["benchmark"] for r in rows[::2]] == [
        "mmmu", "mathvista", "mathvision", "mathverse", "dynamath", "wemath", "logicvista"]
    result = run("mmmu@Math", "--data-dir", str(reasoning7_root), "--ids", "mmmu-validation_Math_2", "--out", str(out))
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert row["n_images"] == 2 and row["prompt"].startswith("Image-1: <image>\nImage-2: <image>\nWhich graph")
    assert len(set(row["images"])) == 2


def test_strict_and_unknown_names_fail_cleanly(reasoning7_root, tmp_path):
    out = tmp_path / "x.jsonl"
    result = run("mathvision", "--data-dir", str(reasoning7_root), "--strict", "--out", str(out))
    assert result.exit_code == 2 and "missing image" in result.output and not out.exists()
    result = run("mathvisoin", "--data-dir", str(reasoning7_root), "--out", str(out))
    assert result.exit_code == 2 and "did you mean 'mathvision'" in result.output
    result = run("demo", "--prompt-set", "nope", "--out", str(out))
    assert result.exit_code == 2 and "unknown prompt set 'nope'" in result.output


def test_registered_in_the_cli():
    assert "tts.cli.problems" in COMMAND_MODULES


def test_a_log_gets_progress_lines_per_split_and_an_error_is_one_line(reasoning7_root, tmp_path, monkeypatch):
    """Not a terminal (Slurm, nohup): plain lines from tts.progress, one block per dataset split, and nothing
    on stdout but the result (a transient rich bar used to leave a blank line, even before an error)."""
    monkeypatch.setenv("TTS_PROGRESS_INTERVAL", "0")
    result = run("reasoning7", "--data-dir", str(reasoning7_root), "--limit", "2", "--out", str(tmp_path / "r7.jsonl"))
    assert result.exit_code == 0, result.output
    assert "mathvista:testmini: 6 rows to do" in result.stderr
    assert any(line.startswith("mathvista:testmini: done, ") for line in result.stderr.splitlines())
    assert result.stdout.startswith("wrote ")
    folder = tmp_path / "plain"
    folder.mkdir()
    refused = run("demo", "--out", str(folder))
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines()[0].startswith("error: --out ")
