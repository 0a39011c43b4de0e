"""Particle filtering: weights (its_hub's logit softmax), resampling, a constant critic, finished particles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.scripted import ConstantCritic, HashCritic, HashPolicy, Step, TableCritic, TreePolicy
from tts.search import SearchProblem, SearchSettings, search_problems
from tts.search.particle import iteration_rng, resample, weights


def test_weights_are_softmax_of_logits_over_temperature() -> None:
    # its_hub: softmax(log(s / (1 - s))): for two particles p0/p1 = (s0/(1-s0)) / (s1/(1-s1))
    p = weights([0.9, 0.5, 0.1], "logit", 1.0)
    odds = np.array([9.0, 1.0, 1 / 9])
    assert np.allclose(p, odds / odds.sum())
    hot = weights([0.9, 0.5, 0.1], "logit", 2.0)  # softmax(w / 2) = odds ** 0.5, normalised
    assert np.allclose(hot, odds**0.5 / (odds**0.5).sum())
    plain = weights([0.9, 0.5], "score", 0.1)
    assert np.allclose(plain, np.exp([9.0, 5.0]) / np.exp([9.0, 5.0]).sum())
    assert weights([1.0, 0.0], "logit", 1.0)[1] > 0  # clipped, not log(0)
    assert weights([None, 0.3], "logit", 1.0).tolist() == [0.0, 1.0]
    assert weights([None, None], "logit", 1.0).tolist() == [0.5, 0.5]


@settings(max_examples=200, deadline=None)
@given(raw=st.lists(st.floats(0, 10), min_size=1, max_size=12).filter(lambda xs: sum(xs) > 0),
       seed=st.integers(0, 2**32))
def test_systematic_resampling_gives_floor_or_ceil_copies(raw: list[float], seed: int) -> None:
    p = np.array(raw) / sum(raw)
    picked = resample(p, np.random.default_rng(seed), "systematic")
    counts = np.bincount(picked, minlength=len(p))
    assert len(picked) == len(p) and (np.diff(picked) >= 0).all()
    expected = p * len(p)
    assert ((counts >= np.floor(expected - 1e-9)) & (counts <= np.ceil(expected + 1e-9))).all()
    assert (counts[p == 0] == 0).all()


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 64])
def test_a_uniform_population_survives_systematic_resampling(n: int) -> None:
    for seed in range(50):
        assert resample(np.full(n, 1 / n), iteration_rng(seed, 0), "systematic").tolist() == list(range(n))


def test_multinomial_resampling_is_seeded() -> None:
    p = np.array([0.7, 0.2, 0.1])
    a = resample(p, iteration_rng(5, 3), "multinomial")
    assert a.tolist() == resample(p, iteration_rng(5, 3), "multinomial").tolist()
    assert len(a) == 3


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 8), max_steps=st.integers(1, 8))
def test_a_constant_critic_keeps_a_uniform_population(seed: int, n: int, max_steps: int) -> None:
    """Every particle keeps exactly one copy: particle filtering is then Best-of-N written step by step."""
    problems = [SearchProblem(f"q{i}", seed + i) for i in range(2)]
    kw = dict(n=n, max_steps=max_steps, max_new_tokens=60)
    pf = search_problems("particle_filter", problems, HashPolicy(), ConstantCritic(0.7), SearchSettings(**kw))
    bon = search_problems("best_of_n", problems, HashPolicy(), ConstantCritic(0.7), SearchSettings(stepwise=True, **kw))
    for a, b in zip(pf, bon):
        assert a.summary.candidates == b.summary.candidates == tuple(
            sorted(a.summary.candidates, key=lambda x: int(x.split(".")[0])))
        assert len(set(a.summary.candidates)) == n and not any(a.summary.candidate_flags)
        assert not any(node.status == "pruned" for node in a.nodes)


def test_resampling_follows_the_scores_and_copies_finished_particles() -> None:
    # N = 4. Root child 0 finishes at once with a high score; the others are poor and go on.
    script = {"0": Step("done", 1, "stop"), "1": Step("x1"), "2": Step("x2"), "3": Step("x3")}
    policy = TreePolicy(script, default=lambda path: Step(f"t{path}", 1, "stop"))
    critic = TableCritic({"done": 0.99, "x1": 0.01, "x2": 0.01, "x3": 0.01})
    problem = SearchProblem("p", 7)
    (result,) = search_problems("particle_filter", [problem], policy, critic, SearchSettings(n=4, max_steps=5))
    # weights: odds 99 vs 1/99 each: p(0) = 99 / (99 + 3/99) > 0.9997: all four copies go to particle 0
    assert result.summary.candidates == ("0", "0", "0", "0")
    assert result.summary.candidate_flags == ((), ("copy",), ("copy",), ("copy",))
    assert result.summary.stopped == "done" and policy.n_calls == 1
    st_ = {n.node: n.status for n in result.nodes}
    assert st_ == {"0": "finished", "1": "pruned", "2": "pruned", "3": "pruned"}
    assert {n.node: n.candidates for n in result.nodes}["0"] == (0, 1, 2, 3)
    rollouts = result.rollouts("m", "e")
    assert [r.sample_idx for r in rollouts] == [0, 1, 2, 3] and "copy" in rollouts[1].flags


def test_particles_on_one_node_ask_in_one_request() -> None:
    policy, critic = HashPolicy(p_stop=0.0, p_answer=0.0), TableCritic({"s0": 0.9}, default=0.1)
    (result,) = search_problems("particle_filter", [SearchProblem("p", 3)], policy, critic,
                                SearchSettings(n=8, max_steps=3, temperature=0.05))
    assert result.error is None
    second = policy.calls[1]
    assert sum(r.n for r in second) == 8
    assert len({r.steps for r in second}) == len(second)  # one request per distinct node
    for r in second:
        assert list(r.seeds) == list(range(r.seeds[0], r.seeds[0] + r.n))


def test_particle_weight_uses_the_run_aggregation() -> None:
    # first steps tie (both particles survive); second steps: path a = (0.5, 0.9), path b = (0.5, 0.6).
    # "last" weighs 0.9 against 0.6 (at temperature 0.01: all copies to a); "min" sees 0.5 and 0.5.
    script = {"0": Step("a"), "1": Step("b"), "0.0": Step("z"), "1.0": Step("y")}
    scores = {"a": 0.5, "b": 0.5, "z": 0.9, "y": 0.6}
    winners = {}
    for agg in ("last", "min"):
        policy = TreePolicy(script, default=lambda path: Step(f"e{path}", 1, "stop"))
        (r,) = search_problems("particle_filter", [SearchProblem("p", 11)], policy, TableCritic(scores),
                               SearchSettings(n=2, max_steps=3, aggregation=agg, temperature=0.01))
        assert r.error is None, r.error
        winners[agg] = sorted(c.split(".")[0] for c in r.summary.candidates)
    assert winners == {"last": ["0", "0"], "min": ["0", "1"]}
    assert math.isclose(weights([0.9, 0.6], "logit", 0.01)[0], 1.0)


def test_hash_critic_run_is_well_formed() -> None:
    problems = [SearchProblem(f"p{i}", i) for i in range(4)]
    for r in search_problems("particle_filter", problems, HashPolicy(), HashCritic(),
                             SearchSettings(n=6, max_steps=6, resampling="multinomial")):
        assert r.error is None and len(r.summary.candidates) == 6
        nodes = {n.node for n in r.nodes}
        assert set(r.summary.candidates) <= nodes
