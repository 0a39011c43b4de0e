"""``label_run`` with a seeded fake engine and a scripted grader: known mc values, one engine call per batch,
seeds, resume after failures, early stop, the estimate, where the labels live (fast: no model)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.step_labels.conftest import FakeEngine, ScriptedGrader, small_run
from tts.errors import TTSError
from tts.jsonl import read_jsonl
from tts.prompts import build_prompt
from tts.records import MCStep, StepLabels
from tts.rundir import RunDir
from tts.step_labels import label_run
from tts.step_labels.generate import digest
from tts.step_labels.plan import unit_seed

K = 4


def f_known(pid: str, sidx: int, k: int) -> int:
    """Correct continuations of step k: a pattern that gives 0, partial and full mc."""
    return (k + sidx + len(pid)) % (K + 1)


def _label(run: Path, engine: FakeEngine, grader=None, **kw):
    kw.setdefault("continuations", K)
    return label_run(run, policy=engine, grader=grader or ScriptedGrader(run, f_known), progress=False, **kw)


def _journal(folder: Path) -> list[dict]:
    rows = [{k: v for k, v in r.items() if k != "seconds"} for r in read_jsonl(folder / "mc_steps.jsonl")]
    return sorted(rows, key=lambda r: (r["problem_id"], r["sample_idx"], r["step_idx"]))


def test_known_mc_values_and_what_the_engine_was_asked(run_path):
    engine = FakeEngine()
    result = _label(run_path, engine)
    labels = result.labels()
    assert [(lab.problem_id, lab.sample_idx) for lab in labels] == [("p1", 0), ("p1", 1), ("p2", 0)]
    for lab in labels:
        expected = [f_known(lab.problem_id, lab.sample_idx, k) for k in range(len(lab.steps))]
        assert list(lab.correct) == expected and list(lab.total) == [K] * len(expected)
        assert list(lab.mc) == [c / K for c in expected]
        assert list(lab.labels) == [c > 0 for c in expected]  # '+' iff mc > 0
    assert result.skipped == {"no_gold_answer": 1, "fewer_rollouts": 2}
    # one engine call for the batch: every step prefix of every rollout, n = K, its own seed
    assert len(engine.calls) == 1 and engine.cache_blocks == 1
    assert [p.n for p in engine.params] == [K] and engine.params[0].temperature == 1.0
    assert engine.params[0].top_k == 50 and engine.params[0].top_p == 1.0
    run = RunDir.open(run_path, create=False)
    problems = {p.id: p for p in run.problems()}
    rollouts = {(r.problem_id, r.sample_idx): r for r in run.rollouts()}
    asked = {(r.problem_id, r.assistant_prefix) for r in engine.requests}
    assert len(engine.requests) == len(asked) == 3 * 3
    for lab in labels:
        assert "\n\n".join(lab.steps) == rollouts[(lab.problem_id, lab.sample_idx)].text
        for k in range(len(lab.steps)):
            assert (lab.problem_id, "\n\n".join(lab.steps[: k + 1])) in asked
    for r in engine.requests:
        assert r.prompt == build_prompt(problems[r.problem_id]) and len(r.images) == len(problems[r.problem_id].images)
    # the journal: seeds per (problem, sample, step), a digest of the seeded continuations
    for row in _journal(result.out):
        seed = unit_seed(0, row["problem_id"], row["sample_idx"], row["step_idx"])
        assert row["seed"] == seed and row["digest"] == digest([f" c{seed + j}" for j in range(K)])
        assert row["text_hash"] == rollouts[(row["problem_id"], row["sample_idx"])].text_hash
    assert result.out == run_path / "labels" and result.positive == sum(sum(lab.labels) for lab in labels)


def test_the_estimate_equals_the_continuations_made(tmp_path):
    estimates = []
    clean = _label(small_run(tmp_path / "clean"), FakeEngine(), on_estimate=estimates.append)
    assert clean.cost.continuations == estimates[-1].continuations == 9 * K == clean.cost.steps * K
    run = small_run(tmp_path / "run")
    engine = FakeEngine(fail=lambda r: r.problem_id == "p2" and r.assistant_prefix.endswith("bars."))
    first = _label(run, engine, on_estimate=estimates.append)
    assert first.cost.failed == 1 and first.incomplete == 1  # asked for, not made: the rest is exact
    assert first.cost.continuations + first.cost.failed * K == estimates[-1].continuations == 9 * K
    second = _label(run, FakeEngine(), on_estimate=estimates.append)
    assert estimates[-1].continuations == second.cost.continuations == K  # only the failed prefix
    assert second.total_cost["continuations"] == 9 * K and second.total_cost["steps"] == 9 and second.incomplete == 0


def test_failures_are_retried_and_the_result_equals_a_clean_run(tmp_path):
    clean = small_run(tmp_path / "clean")
    _label(clean, FakeEngine())
    broken = small_run(tmp_path / "broken")
    failing = FakeEngine(fail=lambda r: r.problem_id == "p1" and len(r.assistant_prefix) < 40)
    result = _label(broken, failing)
    assert result.incomplete == 2 and result.labelled == 1 and "miss a step" in result.summary()
    retry = FakeEngine()
    _label(broken, retry)
    assert {(r.problem_id, len(r.assistant_prefix) < 40) for r in retry.requests} == {("p1", True)}
    assert (broken / "labels" / "labels.jsonl").read_bytes() == (clean / "labels" / "labels.jsonl").read_bytes()
    for name in ("trl_prm.jsonl", "visualprm400k.jsonl"):
        a = (broken / "labels" / name).read_text().replace(str(broken), "RUN")
        assert a == (clean / "labels" / name).read_text().replace(str(clean), "RUN")
    assert _journal(broken / "labels") == _journal(clean / "labels")


def test_a_batch_size_of_one_problem_makes_one_call_per_problem(run_path):
    engine = FakeEngine()
    _label(run_path, engine, batch_size=1)
    assert [{r.problem_id for r in call} for call in engine.calls] == [{"p1"}, {"p2"}]
    assert engine.cache_blocks == 2


def test_early_stop_settles_later_steps_without_rollouts(run_path):
    def f(pid, sidx, k):
        return 0 if (pid, sidx, k) == ("p1", 0, 0) else 1

    engine = FakeEngine()
    estimates = []
    result = _label(run_path, engine, grader=ScriptedGrader(run_path, f), early_stop=True, on_estimate=estimates.append)
    lab = {(x.problem_id, x.sample_idx): x for x in result.labels()}[("p1", 0)]
    assert lab.total == (K, 0, 0) and lab.mc == (0.0, 0.0, 0.0) and "early_stop" in lab.flags
    assert not any(r.problem_id == "p1" and r.assistant_prefix.count("\n\n") >= 1
                   and r.assistant_prefix.startswith("First look") for r in engine.requests)
    assert result.cost.settled == 2 and result.cost.continuations == 7 * K
    assert not estimates[0].exact and estimates[0].continuations == 9 * K >= result.cost.continuations
    assert len(engine.calls) == 3  # one round per step index
    flags = [r.get("flags") for r in read_jsonl(result.out / "mc_steps.jsonl") if r["total"] == 0]
    assert flags == [["early_stop"], ["early_stop"]]


def test_a_new_threshold_relabels_without_generating(run_path):
    _label(run_path, FakeEngine())

    def never(r):
        raise AssertionError("no generation expected")

    result = _label(run_path, FakeEngine(fail=never), threshold=0.5)
    for lab in result.labels():
        assert lab.threshold == 0.5 and list(lab.labels) == [m > 0.5 for m in lab.mc]
    assert result.cost.continuations == 0


def test_other_settings_are_refused_with_one_message(run_path):
    _label(run_path, FakeEngine())
    with pytest.raises(TTSError, match=r"mc\.continuations: the labels were made with 4, this call asks for 8"):
        _label(run_path, FakeEngine(), continuations=8)
    with pytest.raises(TTSError, match=r"mc\.max_steps"):
        label_run(run_path, policy=FakeEngine(), continuations=K, max_steps=12, dry_run=True)


def test_a_dry_run_writes_nothing_and_loads_nothing(run_path):
    before = sorted(p.relative_to(run_path) for p in run_path.rglob("*"))
    result = label_run(run_path, policy="no/such-model", continuations=K, dry_run=True)
    assert result.dry_run and result.estimate.continuations == 9 * K and result.estimate.exact
    assert sorted(p.relative_to(run_path) for p in run_path.rglob("*")) == before


def test_a_folder_outside_the_run_leaves_the_run_untouched(run_path, tmp_path):
    files = {p: p.read_bytes() for p in run_path.rglob("*") if p.is_file() and p.name != ".lock"}
    out = tmp_path / "labels-elsewhere"
    result = _label(run_path, FakeEngine(), out=out)
    assert result.out == out and (out / "labels.jsonl").exists() and (out / ".lock").exists()
    assert {p: p.read_bytes() for p in run_path.rglob("*") if p.is_file() and p.name != ".lock"} == files
    meta = json.loads((out / "meta.json").read_text())
    (entry,) = meta.values()
    assert entry["root"] == str(run_path.resolve()) and entry["length"] == 3
    with pytest.raises(TTSError, match=r"run\.path: the labels were made with"):  # another run's do not mix in
        _label(small_run(tmp_path / "other"), FakeEngine(), out=out)


def test_shards_merged_equal_an_unsharded_job(run_path, tmp_path):
    whole = _label(run_path, FakeEngine(), out=tmp_path / "whole")
    engines = [FakeEngine(), FakeEngine()]
    for i, engine in enumerate(engines):
        _label(run_path, engine, out=tmp_path / f"shard{i}", shard=f"{i}/2")
    assert [{r.problem_id for r in e.requests} for e in engines] == [{"p1"}, {"p2"}]  # p3 has no gold answer
    merger = FakeEngine()
    merged = _label(run_path, merger, merge=[tmp_path / "shard0", tmp_path / "shard1"])
    assert not merger.calls and merged.cost.continuations == 0 and merged.labelled == 3
    assert _journal(merged.out) == _journal(whole.out)
    assert (merged.out / "labels.jsonl").read_bytes() == (whole.out / "labels.jsonl").read_bytes()
    with pytest.raises(TTSError, match="cannot be merged: mc.continuations"):
        _label(run_path, FakeEngine(), out=tmp_path / "k8", continuations=8, merge=[tmp_path / "shard0"])


def test_a_rollout_whose_text_changed_is_labelled_again(run_path):
    _label(run_path, FakeEngine())
    rows = read_jsonl(run_path / "rollouts.jsonl")
    rows[0]["text"] = rows[0]["text"].replace("legend", "caption")
    (run_path / "rollouts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    engine = FakeEngine()
    result = _label(run_path, engine)
    assert {r.problem_id for r in engine.requests} == {"p1"} and len(engine.requests) == 3
    assert json.loads((result.out / "report.json").read_text())["journal_ignored"]["stale"] == 3
    lab = [x for x in result.labels() if x.key() == ("p1", 0)][0]
    assert "caption" in lab.steps[1]


def test_official_rules_grade_each_step_with_its_own_random_stream(run_path):
    class Recording(ScriptedGrader):
        rng = random.Random(0)

        def grade(self, items):
            self.seen.append(self.rng.random())
            return super().grade(items)

    grader = Recording(run_path, f_known)
    grader.seen = []
    _label(run_path, FakeEngine(), grader=grader, rules="official")
    journal = _journal(run_path / "labels")
    assert len(grader.seen) == len(journal) == 9  # one call per step
    assert sorted(grader.seen) == sorted(random.Random(r["seed"]).random() for r in journal)


def test_records_round_trip_and_refuse_impossible_values():
    step = MCStep("p", 0, 1, 3, 2, 4, cut=1, tokens=30, seed=5, digest="ab", text_hash="cd")
    assert MCStep.from_json(json.loads(step.to_line())) == step and step.mc == 0.5 and step.key() == ("p", 0, 1)
    with pytest.raises(TTSError):
        MCStep("p", 0, 3, 3, 0, 4)
    with pytest.raises(TTSError):
        MCStep("p", 0, 0, 3, 5, 4)
    labels = StepLabels("p", 0, ("a", "b"), (0.0, 0.5), (0, 2), (4, 4), (False, True))
    assert StepLabels.from_json(json.loads(labels.to_line())) == labels
    with pytest.raises(TTSError):
        StepLabels("p", 0, ("a",), (0.0, 0.5), (0, 2), (4, 4), (False, True))
