"""``tts pairs`` end to end in a subprocess (no model needed for correctness/prm/step)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PYTHON
from tests.pairs.conftest import P, bad, ok, unparsable
from tts.jsonl import read_jsonl


def _tts(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "tts", "pairs", *map(str, args)], capture_output=True, text=True, env=env)


def test_cli_writes_pairs_and_reports_why_problems_gave_none(run_factory, tmp_path, cli_env):
    run = run_factory([P("mixed", "6", [ok("6", scores=[0.9, 0.9]), bad("5", scores=[0.4, 0.1]), unparsable(scores=[0.2])]),
                       P("all-right", "6", [ok("6", scores=[0.9, 0.9])])])
    done = _tts(run, "--method", "prm", "--format", "mmpr", "--out", tmp_path / "out", "--min-margin", "0.1", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert "with pairs" in done.stdout and "none: all rollouts correct" in done.stdout and "all-right" in done.stdout
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert sorted(meta) == ["demo_test_pairs_vqa_prm_format_rules", "demo_test_pairs_vqa_prm_rules"]
    report = json.loads((tmp_path / "out" / "reports" / "prm.json").read_text())
    assert report["config"]["min_margin"] == 0.1 and report["report"]["problems_with_pairs"] == 1

    done = _tts(run, "--method", "correctness", "--out", tmp_path / "trl", "--max-pairs", "1", env=cli_env)
    assert done.returncode == 0, done.stderr
    rows = read_jsonl(tmp_path / "trl" / "correctness.jsonl")
    assert [r["kind"] for r in rows] == ["correctness", "format"]


def test_cli_errors_are_one_clear_line(run_factory, tmp_path, cli_env):
    run = run_factory([P("p", "6", [ok("6"), bad("5")])], critic=None)
    done = _tts(run, "--method", "prm", "--out", tmp_path / "out", env=cli_env)
    assert done.returncode == 2 and done.stderr.startswith("error:") and "no critic scores" in done.stderr
    done = _tts(tmp_path / "nowhere", "--out", tmp_path / "out", env=cli_env)
    assert done.returncode == 2 and "not a run directory" in done.stderr


def test_importing_the_pairs_api_does_not_import_torch():
    code = ("import sys, tts.pairs, tts.cli.pairs; from tts.pairs import build_pairs, write_pairs; "
            "print(','.join(m for m in ('torch', 'transformers', 'datasets', 'trl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
