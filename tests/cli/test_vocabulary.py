"""One CLI vocabulary: one flag name per concept across commands, old spellings hidden and deprecated."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import typer

from tests.analysis.synthetic_run import make_run
from tts.cli import build_app

RENAMED = [  # (command, old spelling, new spelling, extra arguments that make the command run)
    ("score", "--label", "--critic-label", ()),
    ("select", "--critic", "--critic-label", ()),
    ("report", "--critic", "--critic-label", ("--draws", "10", "--no-plot")),
    ("report", "--scoring", "--rules", ("--draws", "10", "--no-plot")),
    ("grade", "--scoring", "--rules", ()),
    ("pairs", "--critic", "--critic-label", ()),
    ("problems", "--prompt", "--prompt-set", ()),
]

pytest_plugins = ["tests.fixtures.cli_fixtures"]  # tts, detach_run_logs


def _options() -> dict[str, dict[str, str]]:
    """command → {visible flag: help}."""
    group = typer.main.get_command(build_app())
    assert isinstance(group, typer.core.TyperGroup)
    out = {}
    for name, command in group.commands.items():
        out[name] = {opt: p.help or "" for p in command.params if not getattr(p, "hidden", False)
                     for opt in getattr(p, "opts", ()) if opt.startswith("--")}
    return out


def test_one_name_per_concept_across_commands():
    options = _options()
    for command, flags in options.items():
        assert not {"--label", "--prompt", "--scoring"} & set(flags), command
        if "--critic" in flags:  # always a model, never a scores label
            assert command in ("bestofn", "search", "score", "critic-eval") and "model" in flags["--critic"].lower(), command
    for command in ("bestofn", "search", "compare", "score", "select", "report", "pairs"):
        assert "--critic-label" in options[command], command
    for command in ("bestofn", "search", "sample", "problems"):
        assert "--prompt-set" in options[command], command
    for command in ("grade", "report", "compare"):
        assert "--rules" in options[command], command


@pytest.mark.parametrize("command,old,new", [(c, o, n) for c, o, n, _ in RENAMED])
def test_old_spellings_are_not_in_help(command, old, new, tts):
    help_text = tts(command, "--help").output
    assert new in help_text and not re.search(re.escape(old) + r"(?![\w-])", help_text)


@pytest.mark.parametrize("command,old,new,extra", [r for r in RENAMED if r[0] in ("select", "report")])
def test_old_spellings_still_work_with_a_deprecation_line(command, old, new, extra, tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    value = "prm" if new == "--critic-label" else "strict"
    result = tts(command, run.path, f"{old}={value}", *extra)
    assert result.exit_code == 0, result.output
    assert f"warning: tts {command} {old} is deprecated, use {new}" in result.stderr
    assert result.stderr.count("deprecated") == 1


def test_report_refuses_to_guess_between_two_critics(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    shutil.copy(run.path / "scores" / "prm.jsonl", run.path / "scores" / "other.jsonl")
    for command in ("report", "select"):
        result = tts(command, run.path)
        assert result.exit_code == 2, result.output
        assert "several critics (other, prm); choose one with --critic-label" in result.stderr
    assert tts("report", run.path, "--critic-label", "other", "--draws", "10", "--no-plot").exit_code == 0
    assert json.loads((run.path / "report.json").read_text())["curve_info"]["critic"] == "other"


def test_error_hints_name_cli_flags(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    shutil.copy(run.path / "scores" / "prm.jsonl", run.path / "scores" / "other.jsonl")
    result = tts("pairs", run.path, "--method", "prm", "--out", tmp_path / "p")
    assert result.exit_code == 2 and "--critic-label" in result.stderr and "critic=" not in result.stderr
    result = tts("pairs", run.path, "--method", "dropout-ntp", "--chosen-from", "any", "--out", tmp_path / "p")
    assert result.exit_code == 2 and "pass --policy" in result.stderr and "policy=" not in result.stderr


def test_report_with_a_strategy_subset_leaves_the_full_report_alone(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=3, n=4)
    assert tts("report", run.path, "--draws", "10").exit_code == 0
    full = (run.path / "report.json").read_bytes()
    plot = (run.path / "report-curves.png").read_bytes()
    result = tts("report", run.path, "--strategy", "majority", "--aggregation", "min", "--n", "2", "--draws", "10")
    assert result.exit_code == 0, result.output
    assert (run.path / "report.json").read_bytes() == full and (run.path / "report-curves.png").read_bytes() == plot
    subset = json.loads((run.path / "report-subset.json").read_text())
    assert subset["curve_info"]["strategies"] == ["majority"] and subset["curve_info"]["aggregations"] == ["min"]
    assert (run.path / "report-subset-curves.png").exists()
    printed = "".join(result.output.split())  # rich wraps long paths
    assert "report-subset.json" in printed and "report.jsonisleftasitwas" in printed
    assert len(json.loads(full)["curve_info"]["strategies"]) > 1


@pytest.mark.parametrize("make_out,kind", [
    (lambda tmp: tmp, "is a folder"),
    (lambda tmp: make_run(tmp / "run", problems=1, n=1).path, "is a run directory"),
    (lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt" / "p.jsonl", "is a file, not a folder"),
])
def test_problems_out_that_is_not_a_file_path_is_one_line_and_writes_nothing(make_out, kind, tts, tmp_path):
    out = make_out(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = tts("problems", "demo", "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --out") and kind in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no temporary file, no images/


def test_problems_cleans_its_temporary_file_when_the_write_fails(tmp_path, monkeypatch):
    import os

    from tts.benchmarks import export

    replace = os.replace
    renamed = []

    def fail_on_the_jsonl(src, dst):  # images are written (renamed) fine; the final file's rename fails
        if str(dst).endswith("p.jsonl"):
            renamed.append(src)
            raise OSError("disk full (simulated)")
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_the_jsonl)
    with pytest.raises(OSError, match="disk full"):
        export.export_problems("demo", tmp_path / "p.jsonl", limit=1)
    assert renamed and not [p for p in tmp_path.iterdir() if p.name.startswith(".p.jsonl.tmp")]


def test_building_the_cli_imports_only_light_modules():
    """``tts --help`` stays fast: the command modules read their defaults from the light config records."""
    import subprocess
    import sys

    code = ("import sys; from tts.cli import build_app; build_app(); "
            "print(','.join(m for m in ('numpy', 'tts.api', 'tts.rundir', 'tts.pairs', 'tts.stages', 'PIL') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
