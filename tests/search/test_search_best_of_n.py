"""Best-of-N in the search's budget terms, the seeds of the tree, and the settings."""

from __future__ import annotations

import pytest

from tests.search.scripted import HashCritic, HashPolicy, Step, TreePolicy
from tts.engines.base import problem_seed, sample_seed
from tts.search import SEARCHES, SearchProblem, SearchSettings, search_problems
from tts.search.seeds import base_seed, child_path, child_seed, parent_path


def test_best_of_n_is_one_policy_call_and_one_critic_call_with_the_sample_stage_seeds() -> None:
    problems = [SearchProblem.from_run_seed(f"p{i}", 0) for i in range(5)]
    policy, critic = HashPolicy(), HashCritic()
    results = search_problems("best_of_n", problems, policy, critic, SearchSettings(n=8))
    assert policy.n_calls == 1 and critic.n_calls == 1
    assert [r.n for r in policy.calls[0]] == [8] * 5 and not any(r.stop_at_step for r in policy.calls[0])
    for problem, result in zip(problems, results):
        assert problem.seed == problem_seed(0, problem.problem_id)
        assert result.summary.candidates == tuple(str(i) for i in range(8))
        assert [n.seed for n in result.nodes] == [sample_seed(problem.seed, i) for i in range(8)]
        assert result.summary.proposer_calls == result.summary.scorer_calls == 1
        assert result.summary.policy_tokens == sum(r.completion_tokens for r in result.rollouts("m", "e"))


def test_best_of_n_splits_the_token_budget_evenly() -> None:
    policy = TreePolicy({}, default=lambda path: Step(f"long {path}", 50, "stop"))
    (result,) = search_problems("best_of_n", [SearchProblem("p", 1)], policy, HashCritic(),
                                SearchSettings(n=4, token_budget=100))
    assert [r.max_new_tokens for r in policy.calls[0]] == [25]
    assert result.summary.policy_tokens == 100
    assert all(r.finish_reason == "length" for r in result.rollouts("m", "e"))


def test_seeds_follow_the_sample_stage_rule_and_depend_only_on_the_path() -> None:
    assert [child_seed(500, "", i) for i in range(3)] == [500, 501, 502]
    assert base_seed(500, "2.1") == base_seed(500, "2.1") != base_seed(500, "2.0")
    assert base_seed(500, "2.1") != base_seed(501, "2.1")
    assert child_seed(500, "2.1", 3) == base_seed(500, "2.1") + 3
    assert 0 <= base_seed(500, "7.7.7") < 2**31
    assert child_path("", 4) == "4" and child_path("4", 0) == "4.0"
    assert parent_path("4.0") == "4" and parent_path("4") == "" and parent_path("") is None


def test_settings_validate_and_record_what_each_algorithm_reads() -> None:
    with pytest.raises(ValueError, match="multiple of beam_width"):
        SearchSettings(n=6, beam_width=4).check("dvts")
    SearchSettings(n=6, beam_width=4).check("particle_filter")
    with pytest.raises(KeyError, match="unknown aggregation"):
        SearchSettings(aggregation="median")
    with pytest.raises(ValueError, match="token_budget"):
        SearchSettings(n=8, token_budget=7)
    for bad in (dict(n=0), dict(max_steps=0), dict(temperature=0.0), dict(lookahead=-1),
                dict(resampling="stratified"), dict(particle_weight="rank"), dict(max_step_tokens=0)):
        with pytest.raises(ValueError):
            SearchSettings(**bad)
    s = SearchSettings(n=8, beam_width=2)
    assert s.options("particle_filter") == {
        "n": 8, "max_steps": 40, "max_new_tokens": 4096, "max_step_tokens": None, "token_budget": None,
        "aggregation": "last", "temperature": 1.0, "particle_weight": "logit", "resampling": "systematic",
        "final_answer": r"\\boxed\{"}
    assert "beam_width" in s.options("beam") and "beam_width" not in s.options("step_greedy")
    assert s.answered(r"so the answer is \boxed{3}") and not s.answered("boxed")
    assert not SearchSettings(final_answer=None).answered(r"\boxed{3}")


def test_unknown_algorithm_names_the_closest() -> None:
    with pytest.raises(KeyError, match="did you mean 'beam'"):
        SEARCHES.get("beams")
