"""Invariants of every algorithm on random scripted models (hypothesis): budgets never exceeded, the cost
accounting adds up, the records are consistent, the search is deterministic and batch-independent, and
beam search with N = M = k is step-greedy."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.scripted import HashCritic, HashPolicy
from tts.critics.steps import split_steps
from tts.search import SearchProblem, SearchSettings, StepProposal, StepRequest, search_problems

ALGORITHMS = ["beam", "dvts", "step_greedy", "particle_filter", "best_of_n"]


class CapEater(HashPolicy):
    """A worst case for the budgets: every step uses every token it is allowed (and still goes on)."""

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        out = super().propose(requests)
        return [[StepProposal(p.text, r.max_new_tokens, "length" if not r.stop_at_step else p.finish_reason)
                 for p in ps] for r, ps in zip(requests, out)]


@st.composite
def search_settings(draw: st.DrawFn) -> tuple[str, SearchSettings]:
    algorithm = draw(st.sampled_from(ALGORITHMS))
    m = draw(st.integers(1, 3))
    n = m * draw(st.integers(1, 3))
    budget = draw(st.one_of(st.none(), st.integers(n, 200)))
    return algorithm, SearchSettings(
        n=n, beam_width=m, max_steps=draw(st.integers(1, 7)), max_new_tokens=draw(st.integers(1, 60)),
        max_step_tokens=draw(st.one_of(st.none(), st.integers(1, 12))), token_budget=budget,
        lookahead=draw(st.integers(0, 2)), filter_duplicates=draw(st.booleans()),
        sort_completed=draw(st.booleans()), aggregation=draw(st.sampled_from(["last", "mean", "min", "prod"])),
        resampling=draw(st.sampled_from(["systematic", "multinomial"])), stepwise=draw(st.booleans()),
        temperature=draw(st.sampled_from([0.1, 1.0, 5.0])),
    )


def check_invariants(algorithm: str, s: SearchSettings, policy: HashPolicy, critic: HashCritic, result) -> None:
    assert result.error is None, result.error
    summary, nodes = result.summary, {n.node: n for n in result.nodes}
    # budgets
    if s.token_budget is not None:
        assert summary.policy_tokens <= s.token_budget
    for r in (r for call in policy.calls for r in call if r.problem.problem_id == result.problem_id):
        assert r.max_new_tokens >= 1
        if r.stop_at_step and s.max_step_tokens is not None:
            assert r.max_new_tokens <= s.max_step_tokens
    for node in nodes.values():
        path_tokens, at = 0, node
        while at is not None:
            path_tokens += at.tokens
            at = nodes.get(at.parent) if at.parent else None
        assert path_tokens + node.lookahead_tokens <= s.max_new_tokens
        assert node.depth <= s.max_steps
        assert node.seed >= 0
    # accounting adds up
    assert summary.policy_tokens == sum(n.tokens + n.lookahead_tokens for n in nodes.values())
    assert summary.proposals == len(nodes) + sum(len(n.lookahead) for n in nodes.values())
    sent = [r for call in critic.calls for r in call if r.problem.problem_id == result.problem_id]
    assert summary.critic_tokens == sum(3 * len(r.steps) for r in sent)  # HashCritic's tokens: what it was sent
    assert summary.scored == len(sent) == len({(i, r.steps) for i, call in enumerate(critic.calls) for r in call
                                                if r.problem.problem_id == result.problem_id})  # each text once a call
    assert summary.critic_tokens <= sum(n.critic_tokens for n in nodes.values())
    rounds = s.max_steps * (1 + (s.lookahead if algorithm in ("beam", "dvts", "step_greedy") else 0))
    assert 1 <= summary.proposer_calls <= rounds
    assert summary.scorer_calls <= s.max_steps + 1
    # candidates
    assert 1 <= len(summary.candidates) <= s.n
    assert all(c in nodes for c in summary.candidates)
    for i, c in enumerate(summary.candidates):
        assert i in nodes[c].candidates
    for node in nodes.values():
        assert (node.status in ("expanded", "finished", "cut")) == node.kept
        if node.status == "finished":
            assert node.done
        if node.status == "expanded":
            assert not node.done
    rollouts, scores = result.rollouts("m", "e"), result.step_scores("crit")
    assert [r.sample_idx for r in rollouts] == [x.sample_idx for x in scores] == list(range(len(rollouts)))
    for r, x in zip(rollouts, scores):
        assert r.completion_tokens <= s.max_new_tokens
        if x.scored:
            assert list(x.steps) == split_steps(r.text, max_steps=None)
        if summary.stopped != "budget":
            assert "unfinished" not in r.flags  # only a budget stop leaves unfinished candidates


@settings(max_examples=150, deadline=None)
@given(case=search_settings(), seed=st.integers(0, 2**31 - 1), eat=st.booleans())
def test_budgets_are_never_exceeded(case: tuple[str, SearchSettings], seed: int, eat: bool) -> None:
    algorithm, s = case
    s.check(algorithm)
    policy = CapEater() if eat else HashPolicy(max_tokens=12)
    ps = [SearchProblem(f"q{i}", seed + i) for i in range(3)]
    critic = HashCritic()
    for result in search_problems(algorithm, ps, policy, critic, s):
        check_invariants(algorithm, s, policy, critic, result)


@settings(max_examples=60, deadline=None)
@given(case=search_settings(), seed=st.integers(0, 2**31 - 1), k=st.integers(1, 6))
def test_deterministic_and_independent_of_the_batch(case: tuple[str, SearchSettings], seed: int, k: int) -> None:
    algorithm, s = case
    ps = [SearchProblem(f"q{i}", seed * 7 + i) for i in range(k)]
    batched = search_problems(algorithm, ps, HashPolicy(), HashCritic(), s)
    again = search_problems(algorithm, ps, HashPolicy(), HashCritic(), s)
    alone = [search_problems(algorithm, [p], HashPolicy(), HashCritic(), s)[0] for p in ps[::-1]][::-1]
    for a, b, c in zip(batched, again, alone):
        assert (a.summary, a.nodes) == (b.summary, b.nodes) == (c.summary, c.nodes)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 5), max_steps=st.integers(1, 8),
       lookahead=st.integers(0, 2), budget=st.one_of(st.none(), st.integers(5, 150)),
       sort_completed=st.booleans(), aggregation=st.sampled_from(["last", "mean", "min", "prod"]))
def test_beam_with_n_equal_m_equal_k_is_step_greedy(seed: int, k: int, max_steps: int, lookahead: int,
                                                    budget: int | None, sort_completed: bool,
                                                    aggregation: str) -> None:
    s = SearchSettings(n=k, beam_width=k, max_steps=max_steps, lookahead=lookahead, max_new_tokens=50,
                       token_budget=budget and max(budget, k), sort_completed=sort_completed,
                       aggregation=aggregation)
    ps = [SearchProblem(f"q{i}", seed + i) for i in range(3)]
    beam = search_problems("beam", ps, HashPolicy(vocab=3), HashCritic(), s)
    greedy = search_problems("step_greedy", ps, HashPolicy(vocab=3), HashCritic(), s)
    for a, b in zip(beam, greedy):
        assert a.nodes == b.nodes
        assert a.summary.candidates == b.summary.candidates and a.summary.stopped == b.summary.stopped
        assert a.summary.policy_tokens == b.summary.policy_tokens
        assert a.step_scores("c") == b.step_scores("c")
    # duplicates filtered: the same candidates (a duplicate never beats the text it repeats)
    dedup = search_problems("beam", ps, HashPolicy(vocab=3), HashCritic(),
                            SearchSettings(**{**s.__dict__, "filter_duplicates": True}))
    for a, b in zip(dedup, greedy):
        assert a.summary.candidates == b.summary.candidates
