"""The tree and summary records: JSON lines, and the final candidates as Rollout + StepScores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import pytest

from tests.search.scripted import HashCritic, HashPolicy, Step, TableCritic, TreePolicy
from tts.records import RecordError, Rollout, StepScores
from tts.search import (
    PartialScore,
    ScoreRequest,
    SearchNode,
    SearchProblem,
    SearchResult,
    SearchSettings,
    SearchSummary,
    search_problems,
)
from tts.search.records import tree_hash


@pytest.mark.parametrize("algorithm", ["beam", "dvts", "step_greedy", "particle_filter", "best_of_n"])
def test_records_round_trip_and_convert_the_same_after_reading_back(algorithm: str) -> None:
    settings = SearchSettings(n=4, beam_width=2, max_steps=5, lookahead=1)
    for result in search_problems(algorithm, [SearchProblem(f"p{i}", i) for i in range(3)], HashPolicy(),
                                  HashCritic(), settings):
        lines = [n.to_line() for n in result.nodes] + [result.summary.to_line()]
        nodes = tuple(SearchNode.from_json(json.loads(line)) for line in lines[:-1])
        summary = SearchSummary.from_json(json.loads(lines[-1]))
        assert nodes == result.nodes and summary == result.summary
        back = SearchResult(result.problem_id, summary, nodes)
        assert back.rollouts("m", "e") == result.rollouts("m", "e")
        assert back.step_scores("c") == result.step_scores("c")
        for r in back.rollouts("m", "e"):
            assert Rollout.from_json(json.loads(r.to_line())) == r
        assert summary.settings == settings.options(algorithm)
        assert list(json.loads(lines[0])) == [
            "problem_id", "node", "parent", "depth", "seed", "step", "tokens", "prompt_tokens", "finish_reason",
            "answered", "done", "lookahead", "lookahead_tokens", "scores", "critic_tokens", "flags", "score",
            "rank", "status", "candidates", "step_flags"]
        assert list(json.loads(lines[-1]))[-4:] == ["nodes", "tree_hash", "policy_seconds", "critic_seconds"]
        assert summary.nodes == len(nodes) and summary.tree_hash == tree_hash(nodes)


def test_invalid_records_are_refused() -> None:
    good = dict(problem_id="p", node="0.1", parent="0", depth=2, seed=1, step="x", tokens=1, prompt_tokens=0,
                finish_reason="step", answered=False, done=False, lookahead=[], lookahead_tokens=0, scores=[],
                critic_tokens=0, flags=[], score=None, rank=None, status="pruned", candidates=[])
    SearchNode.from_json(good)
    for bad in (dict(status="kept"), dict(finish_reason="eos"), dict(depth=1)):
        with pytest.raises(RecordError):
            SearchNode.from_json(good | bad)
    with pytest.raises(RecordError):
        SearchSummary.from_json(dict(problem_id="p", algorithm="beam", seed=1, settings={}, candidates=["0"],
                                     candidate_flags=[], stopped="done"))


def test_a_candidate_converts_to_a_rollout_and_its_own_step_scores() -> None:
    # beam N = M = 2 with one lookahead step: the chosen first step "a" is scored with its lookahead "ga"
    # (2 steps), but the candidate's StepScores hold only its own steps.
    script = {"0": Step("a", 2), "1": Step("b", 2), "0.0": Step("fin \\boxed{1}", 3), "0.1": Step("c", 5, "stop")}
    policy = TreePolicy(script, greedy={"0~": Step("ga\n\nmore", 4), "1~": Step("gb", 1)})
    critic = TableCritic({"a": 0.6, "ga": 0.9, "b": 0.7, "gb": 0.1, "fin \\boxed{1}": 0.8, "c": 0.4})
    (result,) = search_problems("beam", [SearchProblem("p", 5)], policy, critic,
                                SearchSettings(n=2, beam_width=2, max_steps=3, lookahead=1))
    a = {n.node: n for n in result.nodes}["0"]
    assert a.scores == (0.6, 0.9, 0.5) and a.own_scores == (0.6,) and a.score == 0.6  # "more": default 0.5
    assert result.summary.candidates == ("0.0", "0.1")
    r0, r1 = result.rollouts("pol", "vllm")
    assert (r0.text, r0.finish_reason, r0.completion_tokens, r0.prompt_tokens, r0.seed) == (
        "a\n\nfin \\boxed{1}", "stop", 5, 7, 5)
    assert r0.search == {"algorithm": "beam", "node": "0.0", "settings": result.summary.settings}
    assert r0.flags == ("answered",)
    assert r0.search["settings"]["lookahead"] == 1 and r0.search["settings"]["n"] == 2
    assert json.loads(r0.to_line())["search"]["node"] == "0.0"
    assert (r1.text, r1.finish_reason, r1.completion_tokens) == ("a\n\nc", "stop", 7)
    s0, s1 = result.step_scores("visualprm")
    assert s0 == StepScores("p", 0, "visualprm", ("a", "fin \\boxed{1}"), (0.6, 0.8), (), 6, text_hash=r0.text_hash)
    assert s1.steps == ("a", "c") and s1.scores == (0.6, 0.4)
    assert sum(r.seconds for r in (r0, r1)) == pytest.approx(result.summary.policy_seconds)


class Truncating:
    """A critic that keeps only the last two steps (as one whose context is full drops leading steps)."""

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        return [PartialScore(tuple(0.5 for _ in r.steps[-2:]), 9, ("truncated", f"dropped_steps:{max(0, len(r.steps) - 2)}"))
                for r in requests]


def test_truncated_and_unscored_candidates() -> None:
    script = {"0": Step("a"), "0.0": Step("b"), "0.0.0": Step("c", 1, "stop"), "1": Step("  ", 1, "stop")}
    (result,) = search_problems("best_of_n", [SearchProblem("p", 1)], TreePolicy(script), Truncating(),
                                SearchSettings(n=2, stepwise=True, max_steps=5))
    s0, s1 = result.step_scores("crit")
    assert s0.steps == ("b", "c") and s0.scores == (0.5, 0.5) and "truncated" in s0.flags
    assert not s1.scored and s1.flags == ("unscored", "empty")  # a blank solution is never sent to the critic
    assert {n.node: n for n in result.nodes}["1"].rank is None


def test_an_empty_step_that_ends_the_solution_adds_no_step() -> None:
    """The policy wrote "a", a blank line, then end of sequence: the solution is "a", not "a\\n\\n"."""
    script = {"0": Step("a"), "0.0": Step("", 1, "stop")}
    (result,) = search_problems("best_of_n", [SearchProblem("p", 1)], TreePolicy(script), TableCritic({"a": 0.7}),
                                SearchSettings(n=1, stepwise=True, max_steps=5))
    (rollout,) = result.rollouts("m", "e")
    (scores,) = result.step_scores("c")
    assert rollout.text == "a" and rollout.finish_reason == "stop" and rollout.completion_tokens == 3
    assert scores.steps == ("a",) and scores.scores == (0.7,)
    end = {n.node: n for n in result.nodes}["0.0"]
    assert end.depth == 2 and end.step == "" and end.done


def test_padding_to_n_repeats_the_candidates_in_order_as_flagged_copies() -> None:
    script = {"0": Step("a", 1, "stop"), "1": Step("b"), "1.0": Step("c", 1, "stop"), "1.1": Step("d")}
    (result,) = search_problems("beam", [SearchProblem("p", 1)], TreePolicy(script, default=lambda p: Step("z", 1, "stop")),
                                TableCritic({"a": 0.1, "b": 0.9}), SearchSettings(n=2, beam_width=2, max_steps=2))
    assert len(result.summary.candidates) < 4
    own = result.rollouts("m", "e")
    padded = result.rollouts("m", "e", pad_to=4)
    assert [r.sample_idx for r in padded] == [0, 1, 2, 3]
    assert [replace(r, seconds=0.0) for r in padded[: len(own)]] == [replace(r, seconds=0.0) for r in own]
    assert sum(r.seconds for r in padded) == pytest.approx(result.summary.policy_seconds)
    k = len(own)
    for r in padded[k:]:
        original = own[r.sample_idx % k]
        assert r.text == original.text and r.search == original.search and "copy" in r.flags
    scores = result.step_scores("c", pad_to=4)
    assert [s.scores for s in scores[k:]] == [scores[i % k].scores for i in range(k, 4)]
