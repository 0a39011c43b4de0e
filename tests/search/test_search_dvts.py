"""DVTS against hand-computed trees, search-and-learn's DVTS bug (#57) fixed, and DVTS with M = 1."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.scripted import HashCritic, HashPolicy, Step, TableCritic, TreePolicy
from tts.search import SearchProblem, SearchSettings, search_problems

P = SearchProblem("p", 99)

# N = 4, M = 2: subtree 0 owns root children 0, 1; subtree 1 owns 2, 3.
SCRIPT = {
    "0": Step("a0"), "1": Step("a1"), "2": Step("a2"), "3": Step("a3"),
    "1.0": Step("b10"), "1.1": Step("b11", finish="stop"),   # subtree 0 ends at iteration 1 (EOS)
    "2.0": Step("b20"), "2.1": Step("b21"),
    "2.0.0": Step("end200", 3, "stop"), "2.0.1": Step("end201", 3, "stop"),
}
SCORES = {"a0": 0.3, "a1": 0.8, "a2": 0.6, "a3": 0.4, "b10": 0.5, "b11": 0.7, "b20": 0.9, "b21": 0.2,
          "end200": 0.3, "end201": 0.6}


def run(script=SCRIPT, scores=SCORES, **kw):
    policy, critic = TreePolicy(script), TableCritic(scores)
    (result,) = search_problems("dvts", [P], policy, critic, SearchSettings(n=4, beam_width=2, max_steps=3, **kw))
    assert result.error is None, result.error
    return result, policy, critic


def test_dvts_hand_tree_returns_completed_solutions_only() -> None:
    result, policy, critic = run()
    # subtree 0: a1 (0.8) over a0, then b11 (0.7, EOS) over b10: finished after two steps; its unfinished
    # sibling b10 is NOT a candidate (search-and-learn returns it: issue #57). subtree 1: a2, b20, then the
    # last iteration writes both continuations to the end: end201 (0.6) chosen, end200 complete: sibling.
    assert result.summary.candidates == ("1.1", "2.0.1", "2.0.0")
    assert result.summary.candidate_flags == ((), (), ("sibling",))
    assert all(r.finish_reason == "stop" and "unfinished" not in r.flags for r in result.rollouts("m", "e"))
    st = {n.node: n.status for n in result.nodes}
    assert st == {"0": "pruned", "1": "expanded", "2": "expanded", "3": "pruned", "1.0": "pruned",
                  "1.1": "finished", "2.0": "expanded", "2.1": "pruned", "2.0.0": "finished", "2.0.1": "finished"}
    # one call per iteration for both subtrees; the root is asked once for all four first steps
    assert [[(r.steps, r.n) for r in call] for call in policy.calls] == [
        [((), 4)], [(("a1",), 2), (("a2",), 2)], [(("a2", "b20"), 2)]]
    assert critic.n_calls == 3 and result.summary.stopped == "max_steps"


def test_a_subtree_ends_at_its_final_answer_and_finished_siblings_are_kept() -> None:
    script = SCRIPT | {"1.0": Step(r"Answer: \boxed{4}"), "1.1": Step("b11")}  # b11 no longer ends
    scores = SCORES | {r"Answer: \boxed{4}": 0.95}
    result, _, _ = run(script, scores)
    assert result.summary.candidates[0] == "1.0"
    node = {n.node: n for n in result.nodes}["1.0"]
    assert node.answered and node.done and node.status == "finished"
    assert not any(n.node.startswith("1.0.") for n in result.nodes)  # never continued
    rollout = result.rollouts("m", "e")[0]
    assert rollout.finish_reason == "stop" and "answered" in rollout.flags
    # with the rule off the subtree goes on (the script has no step after it: the last iteration ends it)
    off, _, _ = run(script | {"1.0.0": Step("x", 1, "stop"), "1.0.1": Step("y", 1, "stop")}, scores,
                    final_answer=None)
    assert {"1.0.0", "1.0.1"} <= {n.node for n in off.nodes}


def test_finished_siblings_of_an_answered_step_are_candidates() -> None:
    script = SCRIPT | {"1.0": Step(r"\boxed{3}", 1)}  # both of subtree 0's last options are complete
    result, _, _ = run(script, SCORES)
    assert result.summary.candidates[:2] == ("1.1", "1.0")
    assert result.summary.candidate_flags[1] == ("sibling",)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 6), max_steps=st.integers(1, 8),
       budget=st.one_of(st.none(), st.integers(6, 120)))
def test_dvts_with_beam_width_one_is_best_of_n_step_by_step(seed: int, n: int, max_steps: int,
                                                            budget: int | None) -> None:
    problems = [SearchProblem(f"q{i}", seed + i) for i in range(2)]
    kw = dict(n=n, beam_width=1, max_steps=max_steps, token_budget=budget and max(budget, n), max_new_tokens=40)
    dvts = search_problems("dvts", problems, HashPolicy(), HashCritic(), SearchSettings(**kw))
    bon = search_problems("best_of_n", problems, HashPolicy(), HashCritic(), SearchSettings(stepwise=True, **kw))
    for a, b in zip(dvts, bon):
        assert a.summary.candidates == b.summary.candidates  # N chains, the same paths
        ra, rb = a.rollouts("m", "e"), b.rollouts("m", "e")
        assert [(r.text, r.finish_reason, r.completion_tokens) for r in ra] == [
            (r.text, r.finish_reason, r.completion_tokens) for r in rb]
        assert a.step_scores("c") == b.step_scores("c")
        assert a.summary.policy_tokens == b.summary.policy_tokens
        # the critic does not change anything in a subtree of one
        same = search_problems("dvts", problems, HashPolicy(), TableCritic({}), SearchSettings(**kw))
        assert [x.summary.candidates for x in same] == [x.summary.candidates for x in dvts]
