"""Step-DPO pairs from a search tree: siblings scored apart, the chosen one on a correct path."""

from __future__ import annotations

from pathlib import Path

from tests.search.scripted import Step, TableCritic, TreePolicy
from tts.pairs import build_pairs
from tts.records import Grade, Problem
from tts.rundir import RunDir
from tts.search import SearchProblem, SearchSettings, search_problems
from tts.search.store import SearchStore

# Beam N=4, M=2: the root's children "good a" (0.9) / "bad a" (0.2) / "b1" (0.8) / "b2" (0.3); the two best live.
SCRIPT = {
    "0": Step("good a"), "1": Step("bad a"), "2": Step("b1"), "3": Step("b2"),
    "0.0": Step("good end \\boxed{4}", 2, "stop"), "0.1": Step("wrong end \\boxed{5}", 2, "stop"),
    "2.0": Step("b end \\boxed{5}", 2, "stop"), "2.1": Step("b end2 \\boxed{6}", 2, "stop"),
}
SCORES = {"good a": 0.9, "bad a": 0.2, "b1": 0.8, "b2": 0.3, "good end \\boxed{4}": 0.95, "wrong end \\boxed{5}": 0.1,
          "b end \\boxed{5}": 0.6, "b end2 \\boxed{6}": 0.4}


def _run(tmp_path: Path) -> Path:
    with RunDir.open(tmp_path / "run") as run:
        return _write(run)


def _write(run: RunDir) -> Path:
    run.append([Problem(id="p", benchmark="demo", split="test", question="What is 2 + 2?", answer="4",
                        answer_type="integer")])
    (result,) = search_problems("beam", [SearchProblem("p", 3)], TreePolicy(SCRIPT), TableCritic(SCORES),
                                SearchSettings(n=4, beam_width=2, max_steps=3))
    SearchStore(run, "beam").write_tree(result)
    rollouts = result.rollouts("m", "e", pad_to=4)
    run.append(rollouts)
    run.append(result.step_scores("visualprm", pad_to=4), critic="visualprm")
    run.append([Grade("p", r.sample_idx, r.text.rsplit("{", 1)[1].rstrip("}"), "\\boxed{4}" in r.text, "test")
                for r in rollouts])
    return run.path


def test_sibling_steps_the_critic_scored_apart_become_step_pairs(tmp_path):
    path = _run(tmp_path)
    every = build_pairs(path, "step", critic="visualprm", progress=False).pairs
    pairs = [p for p in every if p.details.get("source") == "search_tree"]
    # at the root: "good a" leads to the correct answer; "bad a" and "b2" scored below 0.5 ("b1" is 0.8: no pair),
    # and they were pruned, so no rollout shows them: only the tree has these pairs
    assert {(p.initial_steps, p.chosen, p.rejected) for p in pairs} == {("", "good a", "bad a"), ("", "good a", "b2")}
    # at "0": "good end" is correct, "wrong end" scored 0.1: both are final candidates, so the rollout-based
    # rule already makes that pair, and the tree's copy of it is dropped as a duplicate
    assert {(p.initial_steps, p.chosen, p.rejected) for p in every} == {
        ("", "good a", "bad a"), ("", "good a", "b2"), ("good a\n\n", "good end \\boxed{4}", "wrong end \\boxed{5}")}
    for p in pairs:
        assert p.kind == "step" and p.chosen_from.outcome == "correct" and p.rejected_from.outcome == "search_step"
        assert p.details["chosen_step_score"] >= 0.5 > p.details["rejected_step_score"]
        assert p.chosen_response.startswith(p.initial_steps) and p.details["algorithm"] == "beam"


def test_a_run_without_a_correct_candidate_has_no_tree_pairs(tmp_path):
    path = _run(tmp_path)
    run = RunDir.open(path, create=False)
    grades = run.file("grades")
    grades.write_text(grades.read_text().replace('"correct": true', '"correct": false'))
    pairset = build_pairs(path, "step", critic="visualprm", progress=False)
    assert not [p for p in pairset.pairs if p.details.get("source") == "search_tree"]
