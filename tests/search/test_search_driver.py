"""The driver: batched across problems, identical to one problem at a time, isolates failures, resumes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from tests.search.scripted import HashCritic, HashPolicy, TableCritic, TreePolicy
from tests.search.test_search_beam import SCORES, SCRIPT
from tts.search import (
    PartialScore,
    ScoreRequest,
    SearchProblem,
    SearchSettings,
    StepProposal,
    StepRequest,
    run_search,
    search_problems,
)

ALGORITHMS = ["beam", "dvts", "step_greedy", "particle_filter", "best_of_n"]


def problems(k: int, offset: int = 0) -> list[SearchProblem]:
    return [SearchProblem(f"p{i}", 1000 + 37 * i + offset) for i in range(k)]


def test_sixty_four_problems_cost_as_many_calls_as_one() -> None:
    settings = SearchSettings(n=4, beam_width=2, max_steps=3)
    one_policy, one_critic = TreePolicy(SCRIPT), TableCritic(SCORES)
    (alone,) = search_problems("beam", problems(1), one_policy, one_critic, settings)
    policy, critic = TreePolicy(SCRIPT), TableCritic(SCORES)
    batch = search_problems("beam", problems(64), policy, critic, settings)
    assert policy.n_calls == one_policy.n_calls == 3 and critic.n_calls == one_critic.n_calls == 3
    assert all(len(ps) == 64 for ps in policy.problems_per_call() + critic.problems_per_call())
    assert all(r.summary.candidates == alone.summary.candidates for r in batch)
    assert all(r.summary.proposer_calls == 3 and r.summary.scorer_calls == 3 for r in batch)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_batched_equals_one_at_a_time_in_any_order(algorithm: str) -> None:
    settings = SearchSettings(n=4, beam_width=2, max_steps=6, lookahead=1, filter_duplicates=True,
                              token_budget=150, max_new_tokens=40)
    ps = problems(12)
    sequential = search_problems(algorithm, ps, HashPolicy(), HashCritic(), settings, max_in_flight=1)
    policy = HashPolicy()
    batched = search_problems(algorithm, ps, policy, HashCritic(), settings)
    shuffled = search_problems(algorithm, ps[::-1], HashPolicy(), HashCritic(), settings, max_in_flight=5)[::-1]
    halves = (search_problems(algorithm, ps[::2], HashPolicy(), HashCritic(), settings)
              + search_problems(algorithm, ps[1::2], HashPolicy(), HashCritic(), settings))
    halves = sorted(halves, key=lambda r: int(r.problem_id[1:]))
    for a, b, c, d in zip(sequential, batched, shuffled, halves):
        assert a.error is None
        assert a.summary == b.summary == c.summary == d.summary
        assert a.nodes == b.nodes == c.nodes == d.nodes
        assert a.rollouts("m", "e")[0].text == b.rollouts("m", "e")[0].text
    rounds = max(r.summary.proposer_calls + r.summary.scorer_calls for r in batched)
    assert policy.n_calls <= rounds < sum(r.summary.proposer_calls for r in sequential)


def test_a_killed_search_resumes_per_problem_and_equals_a_clean_run() -> None:
    settings = SearchSettings(n=4, beam_width=2, max_steps=5)
    ps = problems(10)
    clean = {r.problem_id: r for r in run_search("dvts", ps, HashPolicy(), HashCritic(), settings, max_in_flight=4)}
    done = {}
    stream = run_search("dvts", ps, HashPolicy(), HashCritic(), settings, max_in_flight=4)
    for result in stream:
        done[result.problem_id] = result  # "written whole"
        if len(done) == 3:
            stream.close()  # killed: the problems in flight are lost
            break
    rest = [p for p in ps if p.problem_id not in done]
    done.update({r.problem_id: r for r in run_search("dvts", rest, HashPolicy(), HashCritic(), settings)})
    assert {k: (v.summary, v.nodes) for k, v in done.items()} == {k: (v.summary, v.nodes) for k, v in clean.items()}


class FailingFor:
    """Wraps a proposer/scorer: misbehaves on the requests of one problem."""

    def __init__(self, inner, problem_id: str, how: str) -> None:
        self.inner, self.problem_id, self.how, self.calls = inner, problem_id, how, 0

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        self.calls += 1
        out = self.inner.propose(requests)
        if any(r.problem.problem_id == self.problem_id for r in requests):
            if self.how == "raise":
                raise RuntimeError("engine crashed")
            if self.how == "too_long":
                i = next(i for i, r in enumerate(requests) if r.problem.problem_id == self.problem_id)
                out[i] = [StepProposal(p.text, requests[i].max_new_tokens + 1, p.finish_reason) for p in out[i]]
        return out

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        out = self.inner.score(requests)
        return [PartialScore((math.nan,) * len(s.scores), s.tokens) if r.problem.problem_id == self.problem_id
                else s for r, s in zip(requests, out)]


@pytest.mark.parametrize("how", ["raise", "too_long", "nan"])
def test_a_failing_problem_costs_only_itself(how: str) -> None:
    settings = SearchSettings(n=4, beam_width=2, max_steps=4)
    ps = problems(5)
    clean = search_problems("beam", ps, HashPolicy(), HashCritic(), settings)
    if how == "nan":
        policy, critic = HashPolicy(), FailingFor(HashCritic(), "p2", how)
    else:
        policy, critic = FailingFor(HashPolicy(), "p2", how), HashCritic()
    results = search_problems("beam", ps, policy, critic, settings)
    for a, b in zip(clean, results):
        if b.problem_id == "p2":
            assert not b.ok and b.summary is None and b.nodes == ()
            assert {"raise": "RuntimeError", "too_long": "SearchContractError", "nan": "non-finite"}[how] in b.error
            with pytest.raises(ValueError, match="the search failed"):
                b.rollouts("m", "e")
        else:
            assert (a.summary, a.nodes) == (b.summary, b.nodes)


def test_contract_violations_are_caught() -> None:
    class WrongCount:
        def propose(self, requests):
            return [[StepProposal("x", 1, "step")] * (r.n + 1) for r in requests]

    class StopsEarly:  # a continuation to the end must not stop at a step boundary
        def propose(self, requests):
            return [[StepProposal("x", 1, "step")] * r.n for r in requests]

    (r1,) = search_problems("best_of_n", problems(1), WrongCount(), HashCritic(), SearchSettings(n=2))
    (r2,) = search_problems("best_of_n", problems(1), StopsEarly(), HashCritic(), SearchSettings(n=2))
    assert "5 proposals" not in (r1.error or "") and "3 proposals for a request of 2" in r1.error
    assert "stopped at a step" in r2.error


def test_max_in_flight_bounds_the_batch_and_refills_it() -> None:
    settings = SearchSettings(n=2, beam_width=1, max_steps=10)
    policy = HashPolicy(p_stop=0.4)
    results = search_problems("dvts", problems(7), policy, HashCritic(), settings, max_in_flight=2)
    alone = search_problems("dvts", problems(7), HashPolicy(p_stop=0.4), HashCritic(), settings, max_in_flight=1)
    assert [(r.summary, r.nodes) for r in results] == [(r.summary, r.nodes) for r in alone]
    per_call = policy.problems_per_call()
    assert max(len(ps) for ps in per_call) == 2
    assert set().union(*per_call) == {f"p{i}" for i in range(7)}
    with pytest.raises(ValueError, match="max_in_flight"):
        list(run_search("dvts", problems(1), policy, TableCritic({}), settings, max_in_flight=0))


def test_numpy_scores_are_accepted_and_stored_as_floats() -> None:
    import numpy as np

    class Float32Critic:
        def score(self, requests):
            return [PartialScore(tuple(np.float32(0.25) for _ in r.steps), 1) for r in requests]

    (result,) = search_problems("beam", problems(1), HashPolicy(), Float32Critic(), SearchSettings(n=2, beam_width=1))
    assert result.ok and all(type(s) is float for n in result.nodes for s in n.scores)
    with pytest.raises(ValueError, match="unique"):
        search_problems("beam", problems(1) * 2, HashPolicy(), Float32Critic(), SearchSettings(n=2, beam_width=1))
