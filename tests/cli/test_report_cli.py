"""``tts report`` on the console: the card's layout in 100 columns, and no number without its warning."""

from __future__ import annotations

import json

import pytest

from tests.analysis.synthetic_run import make_run
from tts.benchmarks import REASONING7
from tts.stages.select import select_run

pytest_plugins = ["tests.fixtures.cli_fixtures"]  # tts, detach_run_logs

ALL = ["best_of_n", "weighted_vote", "majority", "greedy", "oracle", "random"]
TITLES = ["MMMU", "MathVista", "MathVision", "MathVerse", "DynaMath", "WeMath", "LogicVista"]


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # the width a Slurm log gets


def _header(output: str, first: str) -> list[str]:
    return next(line for line in output.splitlines() if line.split()[:1] == [first]).split()


def test_report_fits_100_columns_with_benchmarks_as_columns_and_overall(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=21, n=4, benchmarks=tuple(reversed(REASONING7)))
    select_run(run, "prm", strategies=ALL, aggregations=["mean", "min"])
    result = tts("report", run.path, "--draws", "20", "--no-plot")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    assert _header(result.stdout, "strategy") == ["strategy", *TITLES, "Overall"]  # the card's order
    assert _header(result.stdout, "rule") == ["rule", *TITLES, "Overall"]
    rows = [line.split()[0] for line in result.stdout.splitlines() if line.split()[:1] and
            line.split()[0] in ALL + [f"{s}/mean" for s in ALL] + [f"{s}/min" for s in ALL]]
    # one aggregation (mean) by default, at the run's n; strategies that read no scores once
    assert "best_of_n" in rows and not any("/min" in r or "@" in r for r in rows)
    assert "aggregation mean" in result.stdout
    every = tts("report", run.path, "--draws", "20", "--no-plot", "--all")
    assert every.exit_code == 0 and "best_of_n/min" in every.stdout and "best_of_n/mean" in every.stdout
    assert max(len(line) for line in every.stdout.splitlines()) <= 100


def test_an_n_larger_than_the_run_warns(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    result = tts("report", run.path, "--n", "16", "--n", "1", "--draws", "10", "--no-plot")
    assert result.exit_code == 0, result.output
    assert "warning: --n 16: the run has only N=2 samples per problem; not shown" in result.stderr
    assert "Accuracy (%) at n=1 " in result.stdout and "n=16" not in result.stdout and "@16" not in result.stdout
    both = tts("report", run.path, "--n", "2", "--n", "1", "--draws", "10", "--no-plot")
    assert "best_of_n@1" in both.stdout and "best_of_n@2" in both.stdout and "warning" not in both.stderr
    alone = tts("report", run.path, "--n", "16", "--draws", "10", "--no-plot")
    assert "not shown" in alone.stderr and "Accuracy (%) at n=2 " in alone.stdout  # falls back to the run's N


def test_official_rules_on_a_run_graded_strictly_are_refused(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=2)
    select_run(run, "prm", strategies=["best_of_n"])
    result = tts("report", run.path, "--rules", "official", "--draws", "10", "--no-plot")
    assert result.exit_code == 2, result.output
    assert f"grade it first: tts grade {run.path} --rules official" in result.stderr
    assert "graded under: strict" in result.stderr and not (run.path / "report-official.json").exists()


def test_a_run_without_a_greedy_sample_shows_greedy_unavailable_not_zero(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=4, n=4, first_greedy=False, benchmarks=("mathvision", "logicvista"))
    select_run(run, "prm", strategies=["greedy", "best_of_n"])
    result = tts("report", run.path, "--draws", "10", "--no-plot")
    assert result.exit_code == 0, result.output
    report = json.loads((run.path / "report.json").read_text())
    cell = report["accuracy"]["mathvision"]["greedy@4"]
    assert cell["accuracy"] is None and cell["no_pick"] == 2 and "no greedy rollout" in cell["unavailable"]
    assert set(report["metrics"]["mathvision"]) == {"first_sample", "best_of_n/mean@4 [prm]"}
    greedy_rows = [line for line in result.stdout.splitlines() if line.split()[:1] == ["greedy"]]
    assert len(greedy_rows) == 2  # the curve table and the selection table
    for row in greedy_rows:
        assert "n/a" in row and "0.0" not in row
    assert "no greedy rollout" in result.stdout


def test_a_partial_metric_prints_its_value_and_reason(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=14, n=2, benchmarks=REASONING7)  # DynaMath rows carry no variants
    select_run(run, "prm", strategies=["best_of_n"])
    result = tts("report", run.path, "--draws", "10", "--no-plot")
    assert result.exit_code == 0, result.output
    table = result.stdout[result.stdout.index("Official metric"):]
    dynamath = _header(table, "best_of_n/mean")[1 + TITLES.index("DynaMath")]
    assert dynamath.endswith("*1") and dynamath[:-2].replace(".", "").isdigit()
    assert "*1 DynaMath: worst case over 2 seed questions, 2 of them with fewer than their 10 variants" in table
    wemath = _header(table, "best_of_n/mean")[1 + TITLES.index("WeMath")]
    assert wemath.startswith("n/a*")  # a reason, never a bare '-'
    assert "WeMath: 4-D score unavailable" in table


def test_select_again_says_up_to_date(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=3, n=2)
    first = tts("select", run.path, "--strategy", "majority")
    assert first.exit_code == 0 and "wrote 3 selections" in first.stdout
    again = tts("select", run.path, "--strategy", "majority")
    assert again.exit_code == 0, again.output
    assert "selections up to date" in again.stdout and "wrote 0" not in again.stdout


def test_published_numbers_beside_partial_ones_keep_the_warning(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=14, n=2, benchmarks=REASONING7)  # DynaMath rows carry no variants
    run.manifest["recipe"] = {"expected": {"best_of_n/mean": {"dynamath": 28.5, "mathvista": 75.2}}}
    run.save()
    select_run(run, "prm", strategies=["best_of_n"])
    result = tts("report", run.path, "--draws", "10", "--no-plot")
    assert result.exit_code == 0, result.output
    report = json.loads((run.path / "report.json").read_text())
    rows = report["comparison"]["best_of_n/mean"]["benchmarks"]
    assert "fewer than their 10 variants" in rows["dynamath"]["warning"] and "warning" not in rows["mathvista"]
    table = result.stdout[result.stdout.index("Ours vs published"):]
    ours = _header(table, "ours")
    assert ours[1 + ["MathVista", "DynaMath"].index("DynaMath")].endswith("*1")
    assert "*1 DynaMath: worst case over 2 seed questions" in table


def test_a_run_without_scores_shows_the_score_strategies_unavailable_not_a_number(tts, tmp_path):
    """Sampled and graded, never scored (`tts sample` + `tts grade`, or a run stopped while scoring): best-of-N
    would be the lowest sample index, a number that looks like best-of-N and is not."""
    run = make_run(tmp_path / "run", problems=4, n=4)
    (run.path / "scores" / "prm.jsonl").unlink()
    result = tts("report", run.path, "--draws", "10", "--no-plot")
    assert result.exit_code == 0, result.output
    info = json.loads((run.path / "report.json").read_text())["curve_info"]
    assert set(info["unavailable"]) == {"best_of_n", "weighted_vote"}
    assert f"tts score {run.path} --critic MODEL" in info["unavailable"]["best_of_n"]
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()[:1] and line.split()[0] in ALL}
    assert "n/a" in rows["best_of_n"] and "n/a" in rows["weighted_vote"]
    assert "n/a" not in rows["majority"] and "n/a" not in rows["oracle"]  # they need no scores
    assert "the run has no critic scores; score it first" in result.stdout


def test_a_run_scored_in_part_warns_how_many_rollouts_lack_a_score(tts, tmp_path):
    run = make_run(tmp_path / "run", problems=4, n=4)
    scores = run.path / "scores" / "prm.jsonl"
    lines = scores.read_text().splitlines(keepends=True)
    scores.write_text("".join(lines[:10]))  # scoring stopped after 10 of the 16 rollouts
    result = tts("report", run.path, "--draws", "10", "--no-plot")
    assert result.exit_code == 0, result.output
    assert "warning: 6 of 16 rollouts have no score from critic prm: best_of_n and the votes rank them below " \
           "every scored one" in " ".join(result.output.split())  # as rich wraps it
    whole = make_run(tmp_path / "whole", problems=4, n=4)  # some rollouts are scored with no steps: not missing
    again = tts("report", whole.path, "--draws", "10", "--no-plot")
    assert "have no score from critic" not in again.output
