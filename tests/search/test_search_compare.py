"""``tts compare``: accuracy against generated tokens per problem, sampled and searched runs side by side,
on a synthetic world written as real run directories."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from tests.conftest import PYTHON
from tests.search.synthetic_world import world
from tts.records import Rollout, Selection
from tts.rundir import RunDir
from tts.search.compare import budgets, compare_runs
from tts.search.store import SearchStore, summary_file
from tts.stages import select_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return world(tmp_path_factory.mktemp("world"), count=24, sampled_n=8, budgets=(4, 8))


def _series(result, label, strategy):
    (s,) = [s for s in result["series"] if s["label"] == label and s["strategy"] == strategy]
    return s


def test_points_and_their_token_costs(runs):
    sampled, beam4, _, particle4, beam8 = runs[:5]
    result = compare_runs([sampled, beam4, beam8, particle4])
    assert result["problems"] == 24 and not result["warnings"] and result["benchmarks"] == ["alpha", "beta"]
    bo = _series(result, "sampled", "best_of_n")
    assert [p["n"] for p in bo["points"]] == budgets(8) == [1, 2, 4, 8]
    total = np.mean([sum(r.completion_tokens for r in rs) for rs in _by_problem(sampled).values()])
    assert [p["policy_tokens"] for p in bo["points"]] == pytest.approx([total * n / 8 for n in (1, 2, 4, 8)], abs=0.01)
    beam = _series(result, "beam search", "best_of_n")
    assert [p["n"] for p in beam["points"]] == [4, 8] and beam["aggregation"] == "min"
    summaries = SearchStore(RunDir.open(beam4, create=False), "beam").summaries().values()
    assert beam["points"][0]["policy_tokens"] == pytest.approx(np.mean([s.policy_tokens for s in summaries]), abs=0.01)
    assert beam["points"][0]["critic_tokens"] == pytest.approx(np.mean([s.critic_tokens for s in summaries]), abs=0.01)
    for p in beam["points"] + bo["points"]:
        assert p["ci_low"] <= p["accuracy"] <= p["ci_high"]
        assert set(p["benchmarks"]) == {"alpha", "beta"}


def test_a_search_point_is_what_select_picks_among_the_candidates(runs, tmp_path):
    import shutil

    beam4 = tmp_path / "beam4"
    shutil.copytree(runs[1], beam4)
    run = RunDir.open(beam4, create=False, write=True)
    select_run(run, "prm", strategies=["best_of_n"], aggregations=["min"])
    grades = {(g.problem_id, g.sample_idx): g.correct for g in run.grades()}
    picks = [grades[(s.problem_id, s.sample_idx)] for s in run.read(Selection)]
    point = _series(compare_runs([beam4]), "beam search", "best_of_n")["points"][0]
    assert point["accuracy"] == pytest.approx(100 * np.mean(picks), abs=1e-3)


def test_best_of_n_at_every_n_matches_the_report_curve(runs):
    from tts.stages import build_report

    sampled = runs[0]
    report = build_report(RunDir.open(sampled, create=False), critic="prm", strategies=["best_of_n"],
                          aggregations=["mean"], plot=False, name="report-test")
    bo = _series(compare_runs([sampled]), "sampled", "best_of_n")
    pooled = {p["n"]: p["benchmarks"] for p in bo["points"]}
    for bench in ("alpha", "beta"):
        for n in (1, 2, 4, 8):
            assert pooled[n][bench]["accuracy"] == pytest.approx(report["curves"][bench]["best_of_n"]["mean"][str(n)], abs=1e-3)


def test_only_problems_complete_in_every_run_are_compared(runs, tmp_path):
    import shutil

    beam = tmp_path / "beam"
    shutil.copytree(runs[1], beam)
    lines = summary_file(beam, "beam").read_text().splitlines()
    summary_file(beam, "beam").write_text("\n".join(lines[1:]) + "\n")  # the first problem not searched yet
    result = compare_runs([runs[0], beam])
    assert result["problems"] == 23 and "only the 23 problems complete in every run" in result["warnings"][0]


def test_the_command_writes_the_figure_and_refuses_an_ungraded_run(runs, tmp_path, cli_env):
    out = tmp_path / "cmp"
    proc = subprocess.run([PYTHON, "-m", "tts", "compare", *map(str, runs), "--out", str(out)], env=cli_env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / "compare.json").read_text())
    assert {s["label"] for s in result["series"]} == {"sampled", "beam search", "DVTS", "particle filtering"}
    assert (out / "compare.png").stat().st_size > 10_000
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(runs[1], bare)
    (bare / "grades.jsonl").unlink()
    proc = subprocess.run([PYTHON, "-m", "tts", "compare", str(bare), "--out", str(out)], env=cli_env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "grade it first" in proc.stderr and "Traceback" not in proc.stderr


def _by_problem(path):
    out: dict[str, list[Rollout]] = {}
    for r in RunDir.open(path, create=False).read(Rollout):
        out.setdefault(r.problem_id, []).append(r)
    return out
