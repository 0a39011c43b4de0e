"""Scale-out and stage commands: K shards merged equal one unsharded run; every stage command on one run."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest

from tests.conftest import PYTHON
from tts.api import bestofn
from tts.records import Grade, Problem, Rollout, Selection, StepScores
from tts.rundir import RunDir
from tts.stages.merge import merge_runs
from tts.stages.report import build_report

pytestmark = pytest.mark.slow
OPTIONS = dict(n=3, benchmarks=["demo"], max_new_tokens=8, first_greedy=True, progress=False,
               strategies=("best_of_n", "majority", "greedy"), aggregations=("mean", "min"))


def _records(path) -> dict[str, list]:
    run = RunDir.open(path, create=False)
    out = {
        "problems": run.read(Problem),
        "rollouts": [dataclasses.replace(r, seconds=0.0) for r in run.read(Rollout)],
        "scores": run.read(StepScores, "visualprm"),
        "grades": run.read(Grade),
        "selections": run.read(Selection),
    }
    return {k: sorted(v, key=lambda r: r.key()) for k, v in out.items()}


def test_sharded_runs_merge_into_the_unsharded_run(tiny, tmp_path):
    whole = bestofn(str(tiny.policy), str(tiny.critic), out=str(tmp_path / "whole"), **OPTIONS)
    shards = [bestofn(str(tiny.policy), str(tiny.critic), out=str(tmp_path / f"s{i}"), shard=f"{i}/3", **OPTIONS)
              for i in range(3)]
    sizes = [len(RunDir.open(s.run_dir, create=False).read(Problem)) for s in shards]
    assert sizes == [2, 2, 2]
    merged = merge_runs([s.run_dir for s in shards], tmp_path / "merged")
    ours, theirs = _records(merged.path), _records(whole.run_dir)
    # The critic packs rollouts of several problems into one padded forward batch, so a shard's batches
    # have other shapes than the whole run's and matmul rounding may move a score in its last bits
    # (seen: 2e-8). Everything else, rollouts and the selections made from the scores included, is exact.
    ours_scores, their_scores = ours.pop("scores"), theirs.pop("scores")
    assert ours == theirs
    assert [dataclasses.replace(s, scores=()) for s in ours_scores] == \
        [dataclasses.replace(s, scores=()) for s in their_scores]
    for a, b in zip(ours_scores, their_scores, strict=True):
        assert a.scores == pytest.approx(b.scores, abs=1e-5)
    report = build_report(merged)
    assert report["accuracy"] == whole.report["accuracy"]
    assert report["curves"] == whole.report["curves"]
    assert merged.manifest["config"]["sampling"] == RunDir.open(whole.run_dir, create=False).config("sampling")
    for ref in {i for p in _records(merged.path)["problems"] for i in p.images}:
        assert (merged.path / ref).exists()
    # the merged manifest keeps the recipe (for the published-numbers comparison) and the shards' stage times
    assert merged.manifest["policy_engine"] == RunDir.open(shards[0].run_dir, create=False).manifest["policy_engine"]
    recipe = merged.manifest["recipe"]
    assert recipe["sampling"]["n"] == 3 and recipe["data"]["shard"] is None and recipe["out"] == str(tmp_path / "merged")
    shard_seconds = [RunDir.open(s.run_dir, create=False).manifest["stages"]["sample"]["seconds"] for s in shards]
    assert report["cost"]["seconds"]["sample"] == pytest.approx(sum(shard_seconds), abs=0.01)
    assert {"problems", "sample", "grade", "select"} <= set(report["cost"]["seconds"])
    # an incomplete or duplicated set of shards is refused unless asked for
    with pytest.raises(Exception, match=r"shard\(s\) 2/3 missing"):
        merge_runs([s.run_dir for s in shards[:2]], tmp_path / "two")
    with pytest.raises(Exception, match=r"shard\(s\) 1 given twice"):
        merge_runs([shards[0].run_dir, shards[1].run_dir, shards[1].run_dir], tmp_path / "dup")
    two = merge_runs([s.run_dir for s in shards[:2]], tmp_path / "two", partial=True)
    assert len(two.read(Problem)) == 4


def test_merge_refuses_shards_of_different_commands(tiny, tmp_path):
    a = bestofn(str(tiny.policy), str(tiny.critic), out=str(tmp_path / "a"), shard="0/2", **OPTIONS)
    b = bestofn(str(tiny.policy), str(tiny.critic), out=str(tmp_path / "b"), shard="1/2",
                **{**OPTIONS, "max_new_tokens": 9})
    with pytest.raises(Exception, match="sampling.max_new_tokens"):
        merge_runs([a.run_dir, b.run_dir], tmp_path / "m")


def _tts(cli_env, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run([PYTHON, "-m", "tts", *map(str, args)], capture_output=True, text=True, env=cli_env,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_every_stage_command_on_one_run(tiny, tmp_path, cli_env):
    run = tmp_path / "run"
    _tts(cli_env, "sample", run, "--policy", tiny.policy, "--n", 3, "--benchmark", "demo", "--limit", 3,
         "--max-new-tokens", 8, "--first-greedy")
    _tts(cli_env, "score", run, "--critic", tiny.critic)
    _tts(cli_env, "score", run, "--critic", tiny.critic_remote, "--critic-label", "visualprm-remote")  # a second critic
    _tts(cli_env, "grade", run)
    _tts(cli_env, "select", run, "--critic-label", "visualprm-remote", "--strategy", "best_of_n", "--aggregation", "min")
    report = _tts(cli_env, "report", run, "--critic-label", "visualprm", "--n", 1, "--n", 3)
    assert "best_of_n" in report.stdout
    _tts(cli_env, "pairs", run, "--method", "correctness", "--format", "trl", "--out", tmp_path / "pairs")
    two = subprocess.run([PYTHON, "-m", "tts", "report", str(run)], capture_output=True, text=True, env=cli_env,
                         timeout=300)  # two critics and none named: the report does not guess
    assert two.returncode == 2 and "choose one with --critic-label" in two.stderr
    rd = RunDir.open(run, create=False)
    assert rd.critics() == ["visualprm", "visualprm-remote"]
    assert len(rd.read(StepScores, "visualprm-remote")) == len(rd.read(Rollout)) == 9
    assert {(s.strategy, s.aggregation, s.critic) for s in rd.read(Selection)} >= {("best_of_n", "min", "visualprm-remote")}
    seconds = json.loads((run / "manifest.json").read_text())["stages"]
    assert {"sample", "score:visualprm", "score:visualprm-remote", "grade:strict"} <= set(seconds)
    assert (tmp_path / "pairs" / "reports" / "correctness.json").exists()
