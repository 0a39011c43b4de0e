"""PRM-aware hard negatives: the best-scored correct rollouts against the best-scored wrong ones."""

from __future__ import annotations

import pytest

from tests.pairs.conftest import P, bad, ok, unparsable
from tts.errors import TTSError
from tts.pairs import build_pairs
from tts.pairs.types import BELOW_MARGIN, NOT_SCORED


def _s(x: float) -> list[float]:
    return [x, x]  # two steps with the same score: the mean is x


def _problem() -> P:
    return P("p", "6", [
        ok("6", ["c0"], _s(0.9)), ok("6", ["c1"], _s(0.6)), ok("6", ["c2"], _s(0.3)),
        bad("5", ["r3"], _s(0.8)), bad("4", ["r4"], _s(0.5)), bad("3", ["r5"], _s(0.1)),
    ])


def _idx(pairset):
    return [(p.chosen_from.sample_idx, p.rejected_from.sample_idx) for p in pairset.pairs]


def test_best_chosen_against_hardest_negatives_in_rank_order(run_factory):
    run = run_factory([_problem()])
    assert _idx(build_pairs(run, "prm", max_pairs_per_problem=3)) == [(0, 3), (0, 4), (1, 3)]
    full = build_pairs(run, "prm")
    assert len(full.pairs) == 9 and _idx(full)[0] == (0, 3)
    assert all(p.kind == "prm" and p.chosen_from.outcome == "correct" for p in full.pairs)
    assert full.pairs[0].details["margin"] == pytest.approx(0.1)


def test_min_margin_keeps_only_clear_pairs(run_factory):
    run = run_factory([_problem()])
    ps = build_pairs(run, "prm", min_margin=0.25)
    assert _idx(ps) == [(0, 4), (0, 5), (1, 5)]
    assert all(p.chosen_from.score - p.rejected_from.score >= 0.25 for p in ps.pairs)
    assert ps.report.counts["below_margin"] == 6


def test_no_pair_reaching_the_margin_is_reported(run_factory):
    run = run_factory([P("p", "6", [ok("6", scores=_s(0.5)), bad("5", scores=_s(0.45))])])
    ps = build_pairs(run, "prm", min_margin=0.2)
    assert ps.report.no_pairs == {BELOW_MARGIN: ["p"]}


def test_unscored_rollouts_take_no_part(run_factory):
    run = run_factory([
        P("p", "6", [ok("6", ["c0"]), ok("6", ["c1"], _s(0.7)), bad("5", ["r2"], _s(0.2)), bad("4", ["r3"])]),
        P("q", "6", [ok("6"), bad("5", scores=_s(0.2))]),
    ])
    ps = build_pairs(run, "prm")
    assert _idx(ps) == [(1, 2)]
    assert ps.report.no_pairs == {NOT_SCORED: ["q"]}
    assert ps.report.counts["unscored_rollouts"] == 3


def test_format_failures_form_their_own_ranked_pool(run_factory):
    run = run_factory([P("p", "6", [ok("6", scores=_s(0.9)), unparsable(scores=[0.3]), unparsable("No answer at all", [0.6])])])
    ps = build_pairs(run, "prm")
    assert [(p.kind, p.rejected_from.sample_idx) for p in ps.pairs] == [("prm_format", 2), ("prm_format", 1)]


def test_substring_rule_also_applies(run_factory):
    run = run_factory([P("p", "6", [ok("6", scores=_s(0.9)), bad("16", scores=_s(0.8)), bad("5", scores=_s(0.1))])])
    assert _idx(build_pairs(run, "prm")) == [(0, 2)]


def test_critic_must_exist_and_be_unambiguous(run_factory):
    run = run_factory([_problem()], critic=None)
    with pytest.raises(TTSError, match="no critic scores"):
        build_pairs(run, "prm")
    run = run_factory([_problem()])
    with pytest.raises(TTSError, match="no scores from critic 'other'"):
        build_pairs(run, "prm", critic="other")
    (run / "scores" / "second.jsonl").write_bytes((run / "scores" / "visualprm.jsonl").read_bytes())
    with pytest.raises(TTSError, match="several critics.*--critic-label"):
        build_pairs(run, "prm")
    assert len(build_pairs(run, "prm", critic="second").pairs) == 9


def test_aggregation_changes_the_ranking(run_factory):
    run = run_factory([P("p", "6", [ok("6", scores=[0.9, 0.9]), bad("5", ["a"], [0.9, 0.0]), bad("4", ["b"], [0.5, 0.5])])])
    assert _idx(build_pairs(run, "prm", max_pairs_per_problem=1, aggregation="mean")) == [(0, 2)]
    assert _idx(build_pairs(run, "prm", max_pairs_per_problem=1, aggregation="max")) == [(0, 1)]
