"""The search stage end to end on the tiny checkpoints (transformers): both models in the loop, whole
problems written, resume per problem, and grade / select / report / pairs reading the run unchanged."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.search.stage_worker import SETTINGS, run_stage
from tts.critics import load_critic
from tts.engines import load_engine
from tts.records import Rollout, Selection, StepScores
from tts.rundir import RunDir
from tts.search.store import SearchStore, summary_file, tree_file
from tts.testing.steps import bias_steps


@pytest.fixture(scope="module")
def models(tiny):
    return load_engine("transformers", str(tiny.policy)), load_critic("visualprm", str(tiny.critic))


class Counting:
    """Counts the engine's generate calls and its vision-tower runs."""

    def __init__(self, engine):
        self.engine, self.calls, self.vision = engine, 0, 0
        vlm = engine.vlm
        tower = vlm.model.model.vision_tower if vlm.style == "native" else vlm.model.vision_model
        self.handle = tower.register_forward_hook(lambda *a: setattr(self, "vision", self.vision + 1))
        self.original = engine.generate

        def generate(requests, params):
            self.calls += 1
            return self.original(requests, params)

        engine.generate = generate

    def close(self):
        self.handle.remove()
        self.engine.generate = self.original


def snapshot(path: Path, algorithm: str = "beam") -> dict:
    run = RunDir.open(path, create=False)
    results = SearchStore(run, algorithm).results()
    return {
        "trees": {r.problem_id: [dataclasses.replace(n, scores=tuple(round(s, 5) for s in n.scores),
                                                     score=None, rank=None) for n in r.nodes] for r in results},
        "summaries": {r.problem_id: dataclasses.replace(r.summary, tree_hash=None) for r in results},
        "rollouts": sorted((dataclasses.replace(r, seconds=0.0) for r in run.read(Rollout)), key=Rollout.key),
        "scores": sorted((s.key(), s.steps, tuple(round(x, 5) for x in s.scores), s.flags)
                          for s in run.read(StepScores, "visualprm")),
    }


@pytest.fixture(scope="module")
def clean(models, tmp_path_factory):
    engine, critic = models
    out = tmp_path_factory.mktemp("search") / "clean"
    counting = Counting(engine)
    try:
        result = run_stage(str(out), "beam", engine=engine, critic=critic)
    finally:
        counting.close()
    return out, result, counting


def test_every_problem_is_searched_and_written_whole(clean):
    out, result, _ = clean
    run = RunDir.open(out, create=False)
    problems = run.problems()
    assert result == {"searched": len(problems), "skipped": 0, "failed": 0, "rederived": 0}
    results = {r.problem_id: r for r in SearchStore(run, "beam").results()}  # trees checked against summaries
    assert set(results) == {p.id for p in problems}
    rollouts, scores = run.read(Rollout), run.read(StepScores, "visualprm")
    n = SETTINGS["n"]
    assert sorted(r.key() for r in rollouts) == sorted((p.id, i) for p in problems for i in range(n))
    assert sorted(s.key() for s in scores) == sorted(r.key() for r in rollouts)
    depth = max(len(results[r.problem_id].steps(r.search["node"])) for r in rollouts)
    assert depth >= 3  # the tiny policy wrote steps: a real multi-step search
    for r in rollouts:
        res = results[r.problem_id]
        assert r.search["algorithm"] == "beam" and r.text == res.text(r.search["node"])
        assert r.search["settings"] == res.summary.settings
        assert ("copy" in r.flags) == (r.sample_idx >= len(res.summary.candidates))
    steps = [n for res in results.values() for n in res.nodes]
    assert {n.finish_reason for n in steps} >= {"step", "stop"}
    assert all("\n\n" not in n.step for n in steps if n.finish_reason == "step")


def test_one_engine_call_per_round_and_one_image_encoding_per_problem(clean):
    out, _, counting = clean
    run = RunDir.open(out, create=False)
    summaries = SearchStore(run, "beam").summaries().values()
    assert counting.calls == max(s.proposer_calls for s in summaries)  # all problems in lockstep
    assert counting.calls < sum(s.proposer_calls for s in summaries)
    assert counting.vision == len(summaries)  # the image is encoded once per problem for the whole search


def test_the_run_binds_the_search_and_the_critic_without_step_merging(clean):
    out, _, _ = clean
    run = RunDir.open(out, create=False)
    assert run.config("search")["algorithm"] == "beam" and run.config("search")["separator"] == "\n\n"
    assert run.config("critics.visualprm")["max_steps"] is None
    assert run.config("sampling")["n"] == SETTINGS["n"] and run.config("sampling")["first_greedy"] is False


def test_a_second_run_finds_everything_done_and_writes_nothing(clean, models, tmp_path):
    out, _, _ = clean
    sizes = {p: p.stat().st_size for p in out.rglob("*.jsonl")}
    engine, critic = models
    assert run_stage(str(out), "beam", engine=engine, critic=critic)["searched"] == 0
    assert {p: p.stat().st_size for p in out.rglob("*.jsonl")} == sizes


def test_resuming_in_parts_equals_a_clean_run(clean, models, tmp_path):
    """Problems searched in two runs (another batch in flight each time) equal one clean run."""
    out, _, _ = clean
    engine, critic = models
    from tts.engines import SamplingParams
    from tts.search import SearchSettings
    from tts.stages import add_problems
    from tts.stages.search import search

    part = tmp_path / "parts"
    settings = SearchSettings(**SETTINGS)
    with RunDir.open(part) as run, bias_steps(engine, 3.0, 1.5):
        problems = add_problems(run, ["demo"])
        search(run, engine, critic, "beam", settings, SamplingParams(n=4, seed=5), problems[3:5], progress=False)
        search(run, engine, critic, "beam", settings, SamplingParams(n=4, seed=5), problems, batch_size=2,
               progress=False)
    assert snapshot(part) == snapshot(out)


def test_crash_leftovers_are_ignored_or_completed(clean, models, tmp_path):
    """The states kill -9 can leave: a problem's node lines without its summary (killed mid-write or
    mid-search), a summary whose rollouts and scores never reached disk. The next run equals a clean one."""
    import shutil

    out, _, _ = clean
    engine, critic = models
    crashed = tmp_path / "crashed"
    shutil.copytree(out, crashed)
    run = RunDir.open(crashed, create=False)
    results = SearchStore(run, "beam").results()
    lost, orphaned = results[1].problem_id, results[2].problem_id
    # 1. `lost` was in flight: half of its node lines written, no summary, no rollouts.
    summaries = [line for line in summary_file(crashed, "beam").read_text().splitlines()
                 if json.loads(line)["problem_id"] not in (lost,)]
    summary_file(crashed, "beam").write_text("\n".join(summaries) + "\n")
    trees = tree_file(crashed, "beam")
    trees.write_text(trees.read_text() + "\n".join(n.to_line() for n in results[1].nodes[:2]) + "\n")
    # 2. `orphaned`: summary written, killed before its rollouts and scores.
    for name in ("rollouts.jsonl", "scores/visualprm.jsonl"):
        path = crashed / name
        keep = [line for line in path.read_text().splitlines() if json.loads(line)["problem_id"] not in (lost, orphaned)]
        path.write_text("\n".join(keep) + "\n")
    # 3. a torn last line (killed mid-append).
    with open(trees, "a") as f:
        f.write('{"problem_id": "demo-1", "node": "9", "par')
    result = run_stage(str(crashed), "beam", engine=engine, critic=critic)
    assert result["searched"] == 1 and result["rederived"] == 2 * SETTINGS["n"]
    assert snapshot(crashed) == snapshot(out)


def test_grade_select_report_and_pairs_read_a_search_run(clean, tmp_path):
    import shutil

    from tts.pairs import build_pairs
    from tts.stages import build_report, grade_run, select_run

    out, _, _ = clean
    copy = tmp_path / "read"
    shutil.copytree(out, copy)
    run = RunDir.open(copy, create=False, write=True)
    grade_run(run, progress=False)
    select_run(run, "visualprm", strategies=["best_of_n", "weighted_vote", "majority"], aggregations=["last", "min"])
    selections = run.read(Selection)
    assert {s.problem_id for s in selections} == {p.id for p in run.problems()}  # every problem complete
    report = build_report(run, critic="visualprm", plot=False)
    section = report["search"]["beam"]
    assert section["problems"] == len(run.problems()) and set(section["per_problem"]) == {p.id for p in run.problems()}
    assert section["total"]["policy_tokens"] == sum(p["policy_tokens"] for p in section["per_problem"].values())
    assert report["curve_info"]["n_samples"] == SETTINGS["n"]
    for method in ("correctness", "prm", "step"):
        build_pairs(copy, method, critic="visualprm", progress=False)
