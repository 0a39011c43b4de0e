"""The select and report stages on hand-made run directories (no model needed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.analysis.synthetic_run import make_run
from tests.conftest import PYTHON, REPO
from tts.records import Grade, Selection
from tts.rundir import RunDir
from tts.stages.report import PLOT_FILE, build_report, official_metrics
from tts.stages.select import select_run

ALL = ["best_of_n", "weighted_vote", "majority", "greedy", "oracle", "random"]


def test_select_writes_every_strategy_and_aggregation_once(tmp_path):
    run = make_run(tmp_path / "run", problems=4, n=6)
    written = select_run(run, "prm", strategies=ALL, aggregations=["mean", "min"])
    sel = run.read(Selection)
    assert written == len(sel) == 4 * (3 * 2 + 3)
    free = [s for s in sel if s.strategy in ("greedy", "oracle", "random")]
    assert {s.aggregation for s in free} == {"none"} and {s.critic for s in free} == {None}
    assert {s.critic for s in sel if s.strategy == "best_of_n"} == {"prm"} and {s.n for s in sel} == {6}
    assert all(s.sample_idx == 0 for s in sel if s.strategy == "greedy")
    # running again writes nothing; asking for a new n adds exactly its records
    assert select_run(run, "prm", strategies=ALL, aggregations=["mean", "min"]) == 0
    assert select_run(run, "prm", strategies=["best_of_n"], aggregations=["mean"], n=3) == 4
    assert all(s.sample_idx < 3 for s in run.read(Selection) if s.n == 3)


def test_select_refuses_unknown_names(tmp_path):
    run = make_run(tmp_path / "run", problems=1, n=2)
    with pytest.raises(KeyError, match="unknown strategy"):
        select_run(run, "prm", strategies=["best_of_m"])
    with pytest.raises(KeyError, match="unknown aggregation"):
        select_run(run, "prm", aggregations=["median"])
    with pytest.raises(KeyError, match="no scores from critic 'nope'"):
        select_run(run, "nope")


def test_report_keeps_the_accuracy_table_and_adds_curves(tmp_path):
    run = make_run(tmp_path / "run", problems=6, n=8)
    select_run(run, "prm", strategies=ALL, aggregations=["mean", "min"])
    report = build_report(run, aggregations=["mean", "min"], draws=300, resamples=200)
    on_disk = json.loads((run.path / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert set(report["accuracy"]) == {"alpha", "beta"}
    cell = report["accuracy"]["alpha"]["best_of_n/mean@8 [prm]"]
    assert set(cell) == {"accuracy", "correct", "total"} and cell["total"] == 3
    assert "first_sample" in report["accuracy"]["alpha"] and "oracle@8" in report["accuracy"]["beta"]
    for block in ("curves", "ci_low", "ci_high"):
        assert set(report[block]["alpha"]) == set(ALL)
        assert set(report[block]["alpha"]["majority"]) == {"mean", "min"}
        assert list(report[block]["alpha"]["majority"]["mean"]) == [str(n) for n in range(1, 9)]
        assert set(report["first_n"][block]["beta"]["oracle"]) == {"mean", "min"}
    assert report["curve_info"]["draws"] == 300 and report["curve_info"]["critic"] == "prm"
    assert report["plot"] == PLOT_FILE and (run.path / PLOT_FILE).stat().st_size > 10_000
    # At n = N both conventions use all samples, so every deterministic strategy equals its stored selection.
    for bench, rules in report["accuracy"].items():
        for strategy in ("best_of_n", "weighted_vote", "majority", "greedy", "oracle"):
            for agg in ("mean", "min"):
                rule = f"{strategy}/{agg}@8 [prm]" if strategy not in ("greedy", "oracle") else f"{strategy}@8"
                stored = rules[rule]["accuracy"]
                assert report["first_n"]["curves"][bench][strategy][agg]["8"] == pytest.approx(stored, abs=1e-3)
                assert report["curves"][bench][strategy][agg]["8"] == pytest.approx(stored, abs=1e-3)


def test_first_n_curves_match_selections_at_every_n(tmp_path):
    run = make_run(tmp_path / "run", problems=5, n=6, seed=3)
    for n in range(1, 7):
        select_run(run, "prm", strategies=["best_of_n", "majority", "weighted_vote"], aggregations=["last"], n=n)
    report = build_report(run, aggregations=["last"], draws=50, resamples=10, plot=False)
    for n in range(1, 7):
        for strategy in ("best_of_n", "majority", "weighted_vote"):
            overall = [report["accuracy"][b][f"{strategy}/last@{n} [prm]"] for b in report["accuracy"]]
            stored = 100 * sum(c["correct"] for c in overall) / sum(c["total"] for c in overall)
            curve = report["first_n"]["curves"]
            counts = {b: report["accuracy"][b][f"{strategy}/last@{n} [prm]"]["total"] for b in curve}
            mean = sum(curve[b][strategy]["last"][str(n)] * counts[b] for b in curve) / sum(counts.values())
            assert mean == pytest.approx(stored, abs=1e-3), (strategy, n)


def test_report_without_curves_or_problems(tmp_path):
    empty = RunDir.open(tmp_path / "empty")
    report = build_report(empty)
    assert report["accuracy"] == {} and "curves" not in report
    run = make_run(tmp_path / "run", problems=2, n=2)
    assert "curves" not in build_report(run, curves=False)


def test_official_metric_hook_reports_selected_answers(tmp_path, monkeypatch):
    from tts.metrics import METRICS

    calls = []

    def alpha_metrics(problems, correct):
        calls.append(([p.id for p in problems], dict(correct)))
        return {"score": 100.0 * sum(correct.values()) / len(correct)}

    assert official_metrics("alpha", [], {}) is None  # no metric registered for this benchmark
    monkeypatch.setitem(METRICS._entries, "alpha", alpha_metrics)
    run = make_run(tmp_path / "run", problems=4, n=4)
    select_run(run, "prm")
    report = build_report(run, curves=False)
    rule = "best_of_n/mean@4 [prm]"
    assert report["metrics"]["alpha"][rule]["score"] == report["accuracy"]["alpha"][rule]["accuracy"]
    assert any(ids == ["q0", "q2"] for ids, _ in calls)


def _snapshot(path):
    sel = RunDir.open(path, create=False).read(Selection)
    keys = [s.key() for s in sel]
    assert len(keys) == len(set(keys)), "duplicate selection records"
    return sorted(sel, key=lambda s: s.key())


@pytest.mark.slow
def test_select_killed_mid_run_resumes_to_a_clean_result(tmp_path):
    code = ("import sys; from tts.rundir import RunDir; from tts.stages.select import select_run; "
            "select_run(RunDir.open(sys.argv[1], create=False, write=True), 'prm', strategies=['best_of_n', 'greedy', 'random'], "
            "aggregations=['mean', 'min'], batch_size=1)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for path in (clean, killed):
        make_run(path, problems=12, n=4)
    subprocess.run([PYTHON, "-c", code, str(clean)], check=True, env=env, capture_output=True)
    proc = subprocess.Popen([PYTHON, "-c", code, str(killed)], env={**env, "TTS_STAGE_BATCH_DELAY": "0.3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = killed / "selections.jsonl"
    deadline = time.time() + 120
    while not target.exists() or target.read_bytes().count(b"\n") < 8:
        assert proc.poll() is None and time.time() < deadline, "select ended before it could be killed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines = target.read_bytes().count(b"\n")
    assert 8 <= lines < 12 * 4, "the kill came too late to prove anything"
    with open(target, "ab") as f:  # a kill in the middle of a write leaves half a line
        f.write(b'{"problem_id": "q9", "strat')
    subprocess.run([PYTHON, "-c", code, str(killed)], check=True, env=env, capture_output=True)
    assert _snapshot(killed) == _snapshot(clean)


@pytest.mark.slow
def test_cli_select_and_report(tmp_path, cli_env):
    run = make_run(tmp_path / "run", problems=4, n=4)
    run.close()  # give back the writer lock: the commands below write the run
    sel = subprocess.run([PYTHON, "-m", "tts", "select", str(run.path), "--strategy", "majority", "--aggregation", "min"],
                         capture_output=True, text=True, env=cli_env, timeout=300)
    assert sel.returncode == 0, sel.stderr
    assert "wrote 4 selections" in sel.stdout
    rep = subprocess.run([PYTHON, "-m", "tts", "report", str(run.path), "--n", "2", "--n", "4", "--aggregation", "min",
                          "--draws", "100"], capture_output=True, text=True, env={**cli_env, "COLUMNS": "200"}, timeout=300)
    assert rep.returncode == 0, rep.stderr
    assert "majority@4" in rep.stdout and "majority@2" in rep.stdout and "report-subset.json" in rep.stdout
    report = json.loads((run.path / "report-subset.json").read_text())  # a subset never replaces report.json
    assert report["curve_info"]["aggregations"] == ["min"] and (run.path / "report-subset-curves.png").exists()
    assert not (run.path / "report.json").exists() and not (run.path / PLOT_FILE).exists()
    assert "majority/min@4 [prm]" in report["accuracy"]["alpha"]
    bad = subprocess.run([PYTHON, "-m", "tts", "report", str(tmp_path / "missing")], capture_output=True, text=True,
                         env=cli_env, timeout=120)
    assert bad.returncode == 2 and "not a run directory" in bad.stderr


def test_grades_drive_oracle_and_accuracy(tmp_path):
    run = make_run(tmp_path / "run", problems=3, n=3)
    select_run(run, "prm", strategies=["oracle"])
    right = {(g.problem_id, g.sample_idx) for g in run.read(Grade) if g.correct}
    for s in run.read(Selection):
        has = any(pid == s.problem_id for pid, _ in right)
        assert ((s.problem_id, s.sample_idx) in right) == has


def test_problems_without_rollouts_are_left_out_of_the_curves(tmp_path):
    from tts.records import Problem

    run = make_run(tmp_path / "run", problems=2, n=3)
    run.append([Problem("unsampled", "alpha", "test", "q", answer="1")])
    report = build_report(run, aggregations=["mean"], draws=20, resamples=10, plot=False)
    assert report["curve_info"]["coverage"]["problems"] == 2
    assert report["curve_info"]["coverage"]["problems_without_rollouts"] == 1
    only_unsampled = RunDir.open(tmp_path / "fresh")
    only_unsampled.append([Problem("x", "alpha", "test", "q", answer="1")])
    assert "curves" not in build_report(only_unsampled)


def test_a_problem_is_selected_only_once_all_its_samples_are_graded_and_scored(tmp_path):
    """Selections are immutable: one decided on part of the samples would survive the resume that adds the rest."""
    from tts.records import StepScores

    run = make_run(tmp_path / "run", problems=2, n=4)
    path = run.file("scores", "prm")
    lines = path.read_text().splitlines(keepends=True)
    held_back = [ln for ln in lines if json.loads(ln)["problem_id"] == "q0" and json.loads(ln)["sample_idx"] == 2]
    path.write_text("".join(ln for ln in lines if ln not in held_back))
    run = RunDir.open(run.path, create=False, write=True)
    select_run(run, "prm", strategies=["best_of_n", "greedy"])
    assert {s.problem_id for s in run.read(Selection)} == {"q1"}
    assert run.manifest["stages"]["select"]["incomplete"] == 1
    # a free strategy needs no scores, but the problem still waits for its grades
    (run.path / "grades.jsonl").write_text("".join(
        ln for ln in (run.path / "grades.jsonl").read_text().splitlines(keepends=True)
        if not (json.loads(ln)["problem_id"] == "q1" and json.loads(ln)["sample_idx"] == 3)))
    run = RunDir.open(run.path, create=False, write=True)
    assert select_run(run, "prm", strategies=["oracle"]) == 1  # q0 only
    run.append([StepScores.from_json(json.loads(held_back[0]))], critic="prm")
    run = RunDir.open(run.path, create=False, write=True)
    assert select_run(run, "prm", strategies=["best_of_n", "greedy"]) == 2
    assert {(s.problem_id, s.strategy) for s in run.read(Selection)} >= {("q0", "best_of_n"), ("q0", "greedy")}
    assert run.manifest["stages"]["select"]["incomplete"] == 1  # q1 still lacks a grade


def test_a_report_can_be_looked_at_while_another_process_writes_the_run(tmp_path):
    """The report reads without the lock; its files are left to the writer (never an older report over a
    newer one), and the report says it rests on the records written so far."""
    run = make_run(tmp_path / "run", problems=3, n=4)
    select_run(run, "prm", strategies=["best_of_n"])
    run.close()
    code = "import sys, time\nfrom tts.rundir import RunDir\nr = RunDir.open(sys.argv[1])\nprint('held', flush=True)\ntime.sleep(60)"
    writer = subprocess.Popen([PYTHON, "-c", code, str(run.path)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "held"
        reader = RunDir.open(run.path, create=False)
        report = build_report(reader, aggregations=["mean"], draws=20, resamples=10)
        assert f"PID {writer.pid}" in report["in_progress"] and f"PID {writer.pid}" in report["not_written"]
        assert report["accuracy"] and not (run.path / "report.json").exists() and not (run.path / PLOT_FILE).exists()
    finally:
        writer.kill()
        writer.wait()
    report = build_report(RunDir.open(run.path, create=False), aggregations=["mean"], draws=20, resamples=10)
    assert "not_written" not in report and "in_progress" not in report
    assert json.loads((run.path / "report.json").read_text())["accuracy"] == report["accuracy"]
    assert (run.path / PLOT_FILE).exists() and not list(run.path.glob(".*.tmp-*"))


def test_a_report_of_a_run_on_a_read_only_mount_is_computed_not_written(tmp_path):
    run = make_run(tmp_path / "run", problems=2, n=3)
    select_run(run, "prm", strategies=["best_of_n"])
    run.close()
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "--bind", str(run.path), str(ro)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True, capture_output=True)
        report = build_report(RunDir.open(ro, create=False), aggregations=["mean"], draws=10, resamples=10)
        assert report["accuracy"] and "Read-only file system" in report["not_written"]
        cli = subprocess.run([PYTHON, "-m", "tts", "report", str(ro), "--draws", "10", "--aggregation", "mean"],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"})
        assert cli.returncode == 0, cli.stderr
        assert "report files not written: cannot write to" in cli.stdout and "best_of_n" in cli.stdout
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)
