"""The selection rules on hand-made candidates: winners, ties, unscored rollouts, greedy, oracle, random."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.strategies import STRATEGIES, Candidate, canonical_clusters, with_clusters
from tts.strategies.rules import rank_key


def C(idx, scores=(), cluster=None, correct=None, greedy=False, answer="x"):
    return Candidate(idx, tuple(scores), answer if cluster is not None else None, cluster, correct, greedy)


CASES = [
    # (name, strategy, aggregation, candidates, expected sample index)
    ("highest mean wins", "best_of_n", "mean", [C(0, [0.2, 0.4]), C(1, [0.9, 0.1]), C(2, [0.5, 0.5])], 1),
    ("min changes the winner", "best_of_n", "min", [C(0, [0.2, 0.4]), C(1, [0.9, 0.1]), C(2, [0.5, 0.5])], 2),
    ("last step", "best_of_n", "last", [C(0, [0.9, 0.3]), C(1, [0.1, 0.8])], 1),
    ("prod", "best_of_n", "prod", [C(0, [0.9, 0.5]), C(1, [0.7, 0.7])], 1),
    ("ties go to the lowest index", "best_of_n", "mean", [C(3, [0.5]), C(1, [0.5]), C(2, [0.5])], 1),
    ("unscored ranks below a scored zero", "best_of_n", "mean", [C(0, []), C(1, [0.0])], 1),
    ("nothing scored: lowest index", "best_of_n", "mean", [C(2, []), C(0, []), C(5, [])], 0),
    ("grid ties: 2**-40 apart is a tie", "best_of_n", "mean", [C(0, [0.5]), C(1, [0.5 + 2**-40])], 0),
    ("majority: biggest cluster", "majority", "mean",
     [C(0, [0.9], 0), C(1, [0.1], 1), C(2, [0.2], 1), C(3, [0.3], 1)], 3),
    ("majority: count tie broken by summed score", "majority", "mean",
     [C(0, [0.9], 0), C(1, [0.3], 0), C(2, [0.7], 1), C(3, [0.6], 1)], 2),
    ("majority: full tie goes to the lower cluster id", "majority", "mean", [C(0, [0.5], 1), C(1, [0.5], 0)], 1),
    ("majority: unparsed answers do not vote", "majority", "mean",
     [C(0, [0.9]), C(1, [0.9]), C(2, [0.9]), C(3, [0.1], 4)], 3),
    ("majority: no parsed answer selects nothing", "majority", "mean", [C(0, [0.9]), C(1, [0.2])], None),
    ("weighted: sum beats count", "weighted_vote", "mean",
     [C(0, [0.95], 0), C(1, [0.9], 0), C(2, [0.6], 1), C(3, [0.6], 1), C(4, [0.6], 1)], 0),
    ("weighted: unscored adds nothing", "weighted_vote", "mean",
     [C(0, [], 0), C(1, [], 0), C(2, [0.1], 1)], 2),
    ("weighted: equal sums, larger cluster wins", "weighted_vote", "mean",
     [C(0, [0.5], 0), C(1, [0.25], 1), C(2, [0.25], 1)], 1),
    ("weighted: all unscored is majority", "weighted_vote", "mean",
     [C(0, [], 0), C(1, [], 1), C(2, [], 1)], 1),
    ("greedy: the flagged rollout", "greedy", "mean", [C(0, [0.1]), C(1, [0.9], greedy=True)], 1),
    ("greedy: none flagged", "greedy", "mean", [C(0, [0.1]), C(1, [0.9])], None),
    ("oracle: first correct", "oracle", "mean", [C(0, correct=False), C(2, correct=True), C(1, correct=True)], 1),
    ("oracle: none correct, lowest index", "oracle", "mean", [C(4, correct=False), C(3, correct=False)], 3),
    ("empty candidate list", "best_of_n", "mean", [], None),
]


@pytest.mark.parametrize("name,strategy,agg,cands,expected", CASES, ids=[c[0] for c in CASES])
def test_rule(name, strategy, agg, cands, expected):
    assert STRATEGIES.get(strategy)(cands, agg) == expected


def test_vote_winner_answers_with_its_best_rollout():
    cands = [C(0, [0.2], 0), C(1, [0.9], 1), C(2, [0.6], 0), C(3, [0.4], 0)]
    assert STRATEGIES.get("majority")(cands, "mean") == 2  # cluster 0 wins; its best-scored member answers


def test_vote_needs_cluster_ids_for_parsed_answers():
    with pytest.raises(ValueError, match="with_clusters"):
        STRATEGIES.get("majority")([Candidate(0, (0.5,), "1/2")], "mean")


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="did you mean 'majority'"):
        STRATEGIES.get("majorty")
    with pytest.raises(KeyError, match="unknown aggregation"):
        STRATEGIES.get("best_of_n")([C(0, [0.1])], "median")


def test_random_is_reproducible_and_uniform():
    cands = [C(i, [0.1]) for i in range(4)]
    pick = STRATEGIES.get("random")
    assert pick(cands, seed=7) == pick(cands, seed=7)
    assert {pick(cands, seed=s) for s in range(200)} == {0, 1, 2, 3}


def test_clusters_by_grader_equivalence_not_string():
    from tts.records import Problem

    problem = Problem("p", "demo", "test", "q", answer="1/2")
    cands = [Candidate(0, (), "1/2"), Candidate(1, (), "0.5"), Candidate(2, (), "\\frac{1}{2}"),
             Candidate(3, (), "3"), Candidate(4, (), None)]
    assert [c.cluster for c in with_clusters(cands, problem)] == [0, 0, 0, 1, None]


def test_canonical_clusters_number_by_first_appearance():
    assert canonical_clusters([None, 5, 2, 5, None, 9]) == [None, 0, 1, 0, None, 2]


@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=8))
def test_identical_scores_pick_the_lowest_index(scores):
    cands = [C(i, [scores[0]] * 2) for i in reversed(range(len(scores)))]
    assert STRATEGIES.get("best_of_n")(cands, "mean") == 0


@given(st.lists(st.booleans(), min_size=0, max_size=8), st.booleans())
def test_adding_a_rollout_never_lowers_oracle(correct, extra):
    cands = [C(i, correct=c) for i, c in enumerate(correct)]
    more = cands + [C(len(correct), correct=extra)]
    oracle = STRATEGIES.get("oracle")

    def ok(cs):
        idx = oracle(cs)
        return idx is not None and any(c.sample_idx == idx and c.correct for c in cs)

    assert ok(more) >= ok(cands)


@given(st.lists(st.tuples(st.floats(-2, 2, allow_nan=False), st.booleans()), min_size=1, max_size=6))
def test_best_of_n_is_the_max_of_rank_key(items):
    cands = [C(i, [] if unscored else [s]) for i, (s, unscored) in enumerate(items)]
    chosen = STRATEGIES.get("best_of_n")(cands, "mean")
    assert rank_key(cands[chosen], "mean") == max(rank_key(c, "mean") for c in cands)
