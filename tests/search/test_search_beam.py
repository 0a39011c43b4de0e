"""Beam search and step-greedy against hand-computed trees."""

from __future__ import annotations

import pytest

from tests.search.scripted import HashCritic, Step, TableCritic, TreePolicy
from tts.search import SearchProblem, SearchSettings, search_problems
from tts.search.beam import spread
from tts.search.types import PartialScore

P = SearchProblem("p", 1234)

# N = 4, M = 2: two beams live. Iteration 0: root children 0..3; "a2" ends the solution (with the lowest
# score: a finished beam is kept whatever its score). Iteration 1 expands the two best unfinished beams by
# two each. Iteration 2 is the last (max_steps=3): it writes every live beam to the end.
SCRIPT = {
    "0": Step("a0", 2), "1": Step("a1", 3), "2": Step("a2", 1, "stop"), "3": Step("a3", 2),
    "1.0": Step("b10", 2), "1.1": Step("b11", 2, "stop"),
    "3.0": Step("b30", 2), "3.1": Step("b31", 2),
    "0.0": Step("c00", 1), "0.1": Step("c01", 1),
    **{f"{p}.{c}": Step(f"end{p}{c}", 4, "stop") for p in ("1.0", "3.0", "3.1", "0.0", "0.1") for c in (0, 1)},
}
SCORES = {"a0": 0.2, "a1": 0.9, "a2": 0.05, "a3": 0.5, "b10": 0.4, "b11": 0.8, "b30": 0.7, "b31": 0.6,
          "c00": 0.1, "c01": 0.1}


def run(settings: SearchSettings, algorithm: str = "beam", script=SCRIPT, scores=SCORES, **kw):
    policy, critic = TreePolicy(script, **kw), TableCritic(scores)
    (result,) = search_problems(algorithm, [P], policy, critic, settings)
    assert result.error is None, result.error
    return result, policy, critic


def statuses(result) -> dict[str, str]:
    return {n.node: n.status for n in result.nodes}


@pytest.mark.parametrize(("aggregation", "live_at_2"), [
    # ranks at iteration 1 of the unfinished b10 (path 0.9, 0.4), b30 (0.5, 0.7), b31 (0.5, 0.6)
    ("last", ["3.0", "3.1"]),  # 0.4 | 0.7 | 0.6
    ("mean", ["1.0", "3.0"]),  # 0.65 | 0.6 | 0.55
    ("min", ["3.0", "3.1"]),   # 0.4 | 0.5 | 0.5
    ("prod", ["1.0", "3.0"]),  # 0.36 | 0.35 | 0.30
])
def test_beam_hand_tree(aggregation: str, live_at_2: list[str]) -> None:
    result, policy, critic = run(SearchSettings(n=4, beam_width=2, max_steps=3, aggregation=aggregation))
    pruned_at_1 = ({"1.0", "3.0", "3.1"} - set(live_at_2)).pop()
    ends = [f"{p}.{c}" for p in live_at_2 for c in (0, 1)]
    # completed pool in completion order: a2 (iteration 0), b11 (iteration 1), the four ends; first N kept
    assert result.summary.candidates == ("2", "1.1", ends[0], ends[1])
    assert result.summary.stopped == "max_steps"
    st = statuses(result)
    assert st["0"] == "pruned" and st["1"] == st["3"] == "expanded" and st["2"] == "finished"
    assert st[pruned_at_1] == "pruned" and all(st[p] == "expanded" for p in live_at_2)
    assert [st[e] for e in ends] == ["finished", "finished", "pruned", "pruned"]
    # one policy and one critic call per iteration; N proposals each
    assert policy.n_calls == critic.n_calls == 3
    assert [sum(r.n for r in call) for call in policy.calls] == [4, 4, 4]
    assert [r.stop_at_step for r in policy.calls[2]] == [False, False]  # the last iteration writes to the end
    rollouts = result.rollouts("m", "e")
    assert [r.text for r in rollouts[:2]] == ["a2", "a1\n\nb11"]
    assert all(r.finish_reason == "stop" for r in rollouts)
    assert result.summary.policy_tokens == sum(n.tokens for n in result.nodes) == 8 + 8 + 16


def test_sort_completed_keeps_the_best_completed() -> None:
    result, _, _ = run(SearchSettings(n=4, beam_width=2, max_steps=3, sort_completed=True))
    # last-step scores: end* 0.5 (TableCritic default), b11 0.8, a2 0.05
    assert result.summary.candidates == ("1.1", "3.0.0", "3.0.1", "3.1.0")
    assert statuses(result)["2"] == "pruned"


def test_finished_beams_are_kept_and_search_ends_when_no_beam_lives() -> None:
    script = {"0": Step("x", 1, "stop"), "1": Step("y", 1), "1.0": Step("y0", 1, "stop"),
              "1.1": Step(r"y1 \boxed{2}", 1)}
    result, policy, _ = run(SearchSettings(n=2, beam_width=1, max_steps=10), script=script,
                            scores={"x": 0.1, "y": 0.9})
    # iteration 0: "x" finished (kept), "y" lives alone and gets both continuations; iteration 1: y0 ends
    # the solution, y1 writes its final answer (ends its path); nothing lives: done after 2 of 10 steps
    assert result.summary.candidates == ("0", "1.0")  # at most N
    assert result.summary.stopped == "done" and policy.n_calls == 2
    assert statuses(result)["1.1"] == "pruned"
    node = {n.node: n for n in result.nodes}["1.1"]
    assert node.answered and node.done and node.finish_reason == "step"


def test_filter_duplicates() -> None:
    script = {"0": Step("x", 1), "1": Step("x", 1), "2": Step("y", 1), "3": Step("z", 1),
              **{f"{p}.{c}": Step(f"e{p}{c}", 1, "stop") for p in "0123" for c in (0, 1)}}
    scores = {"x": 0.9, "y": 0.5, "z": 0.1}
    kept, _, _ = run(SearchSettings(n=4, beam_width=2, max_steps=2, filter_duplicates=True),
                     script=script, scores=scores)
    st = statuses(kept)
    assert st["1"] == "duplicate" and st["0"] == st["2"] == "expanded" and st["3"] == "pruned"
    assert kept.summary.candidates == ("0.0", "0.1", "2.0", "2.1")
    plain, _, _ = run(SearchSettings(n=4, beam_width=2, max_steps=2), script=script, scores=scores)
    assert statuses(plain)["1"] == "expanded"  # the tie between the two "x" beams keeps both
    assert plain.summary.candidates == ("0.0", "0.1", "1.0", "1.1")


def test_lookahead_is_scored_and_counted() -> None:
    script = {"0": Step("a", 1), "1": Step("b", 1), **{f"{p}.{c}": Step(f"e{p}{c}", 1, "stop") for p in "01"
                                                      for c in (0, 1)}}
    greedy = {"0~": Step("ga", 3), "1~": Step("gb", 3)}
    scores = {"a": 0.2, "b": 0.9, "ga": 0.95, "gb": 0.1}
    without, _, _ = run(SearchSettings(n=2, beam_width=2, max_steps=2), script=script, scores=scores,
                        greedy=greedy)
    assert without.summary.candidates == ("1.0", "1.1")
    result, policy, critic = run(SearchSettings(n=2, beam_width=2, max_steps=2, lookahead=1), script=script,
                                 scores=scores, greedy=greedy)
    assert result.summary.candidates == ("0.0", "0.1")  # "a" wins on its greedy continuation's score
    node = {n.node: n for n in result.nodes}["0"]
    assert node.lookahead == ("ga",) and node.lookahead_tokens == 3
    assert node.scores == (0.2, 0.95) and node.score == 0.2 and node.rank == 0.95
    assert [r.greedy for r in policy.calls[1]] == [True, True]
    assert critic.calls[0][0].steps == ("a", "ga")
    assert result.summary.policy_tokens == 2 + 6 + 2 and result.summary.proposer_calls == 3
    # the final candidates' scores are their own steps' (no lookahead in the last iteration anyway)
    assert [s.steps for s in result.step_scores("c")] == [("a", "e00"), ("a", "e01")]


def test_step_greedy_equals_beam_with_n_equal_m_equal_k_on_a_hand_tree() -> None:
    settings = SearchSettings(n=4, beam_width=4, max_steps=3)
    script = SCRIPT | {f"1.{c}": Step(f"b1{c}", 2) for c in (2, 3)} | {
        f"1.{p}.{c}": Step(f"z{p}{c}", 1, "stop") for p in range(4) for c in range(4)}
    scores = SCORES | {"b12": 0.3, "b13": 0.35}  # iteration 1: b10 (0.4) is the best unfinished step
    beam, bp, bc = run(settings, script=script, scores=scores)
    greedy, gp, gc = run(settings, "step_greedy", script=script, scores=scores)
    assert beam.nodes == greedy.nodes
    assert beam.summary.candidates == greedy.summary.candidates == ("2", "1.1", "1.0.0", "1.0.1")
    assert bp.n_calls == gp.n_calls == 3 and bc.n_calls == gc.n_calls == 3


def test_spread_gives_the_extra_continuations_to_the_best() -> None:
    assert spread(16, 4) == [4, 4, 4, 4]
    assert spread(16, 3) == [6, 5, 5]
    assert sum(spread(17, 5)) == 17


def test_beam_with_one_step_is_best_of_n() -> None:
    problems = [SearchProblem(f"p{i}", i) for i in range(3)]
    settings = SearchSettings(n=4, beam_width=2, max_steps=1)
    from tests.search.scripted import HashPolicy

    beam = search_problems("beam", problems, HashPolicy(), HashCritic(), settings)
    bon = search_problems("best_of_n", problems, HashPolicy(), HashCritic(), settings)
    for a, b in zip(beam, bon):
        assert a.summary.candidates == b.summary.candidates == ("0", "1", "2", "3")
        assert a.rollouts("m", "e")[0].text == b.rollouts("m", "e")[0].text
        assert a.step_scores("c") == b.step_scores("c")


class BatchNoiseCritic(TableCritic):
    """:class:`TableCritic` whose scores move in their last bits with the request's place in the call, as a
    real critic's floats move with the shape of the batch they are computed in."""

    def score(self, requests):
        out = super().score(requests)
        return [PartialScore(tuple(s + 1e-9 * (i + 1) for s in p.scores), p.tokens) for i, p in enumerate(out)]


def test_identical_partial_solutions_are_scored_once_and_stay_tied() -> None:
    # "1" and "2" write the same step: scored apart, the batch noise would rank the later copy first
    script = {"0": Step("x", 1), "1": Step("y", 1), "2": Step("y", 1), "3": Step("z", 1),
              **{f"{p}.{c}": Step(f"e{p}{c}", 1, "stop") for p in "0123" for c in (0, 1)}}
    policy, critic = TreePolicy(script), BatchNoiseCritic({"x": 0.9, "y": 0.5, "z": 0.1})
    (result,) = search_problems("beam", [P], policy, critic, SearchSettings(n=4, beam_width=2, max_steps=2))
    assert result.error is None, result.error
    assert [r.steps for r in critic.calls[0]] == [("x",), ("y",), ("z",)]  # the copy is not sent again
    st = statuses(result)
    assert st["1"] == "expanded" and st["2"] == "pruned"  # the tie goes to the copy proposed first
    nodes = {n.node: n for n in result.nodes}
    assert nodes["1"].scores == nodes["2"].scores and nodes["1"].rank == nodes["2"].rank
    assert nodes["1"].critic_tokens == nodes["2"].critic_tokens == 3
    # its cost is counted once: what the critic was sent
    assert result.summary.scored == 3 + 4 == sum(len(call) for call in critic.calls)
    assert result.summary.critic_tokens == sum(3 * len(r.steps) for call in critic.calls for r in call)
