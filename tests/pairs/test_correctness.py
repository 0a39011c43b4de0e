"""MMPR's correctness rules on hand-made runs: pools, substring rule, caps, seeds, de-duplication, reasons."""

from __future__ import annotations

import pytest

from tests.pairs.conftest import P, R, bad, ok, unparsable
from tts.pairs import build_pairs, rules
from tts.pairs.types import (
    ALL_CORRECT,
    ALL_ENTAILED,
    ALL_ERRORS,
    NO_CORRECT,
    NO_GOLD,
    NO_ROLLOUTS,
    NOT_GRADED,
)


def _texts(pairset, kind=None):
    return [(p.chosen, p.rejected) for p in pairset.pairs if kind is None or p.kind == kind]


def test_mixed_problem_gives_correctness_and_format_pairs_and_skips_entailed(run_factory):
    run = run_factory([P("p1", "6", [ok("6", ["a"]), ok("6", ["b"]), bad("5"), bad("16"), unparsable()])])
    ps = build_pairs(run, "correctness")
    rollouts = {i: r.text for i, r in enumerate([ok("6", ["a"]), ok("6", ["b"]), bad("5"), bad("16"), unparsable()])}
    by_kind = {k: [(p.chosen_from.sample_idx, p.rejected_from.sample_idx) for p in ps.pairs if p.kind == k]
               for k in ("correctness", "format")}
    # "6" is inside "16": MMPR skips those two pairs; the unparsable rollout goes to the format pool.
    assert by_kind == {"correctness": [(0, 2), (1, 2)], "format": [(0, 4), (1, 4)]}
    assert ps.report.counts["substring_skips"] == 2
    assert ps.report.problems_with_pairs == 1 and ps.report.pairs == 4
    for p in ps.pairs:
        assert p.chosen == rollouts[p.chosen_from.sample_idx] and p.rejected == rollouts[p.rejected_from.sample_idx]
        assert p.chosen_from.outcome == "correct" and p.answer_gt == "6"
        assert p.prompt.startswith("<image>\nQuestion p1?") and len(p.images) == 1


@pytest.mark.parametrize("problem,reason", [
    (P("all-right", "6", [ok("6"), ok("6", ["x"])]), ALL_CORRECT),
    (P("all-wrong", "6", [bad("5"), unparsable()]), NO_CORRECT),
    (P("no-gold", None, [ok("6"), bad("5")]), NO_GOLD),
    (P("no-rollouts", "6", []), NO_ROLLOUTS),
    (P("ungraded", "6", [R("Answer: 6", "6", True, graded=False)]), NOT_GRADED),
    (P("errors", "6", [R("", None, False, finish="error")]), ALL_ERRORS),
    (P("entailed", "6", [ok("6"), bad("16"), bad("60")]), ALL_ENTAILED),
], ids=lambda x: x.id if isinstance(x, P) else "")
def test_every_problem_without_pairs_has_its_reason(run_factory, problem, reason):
    run = run_factory([problem, P("mixed", "2", [ok("2"), bad("3")])])
    ps = build_pairs(run, "correctness")
    assert ps.report.no_pairs == {reason: [problem.id]}
    assert ps.report.problems == 2 and ps.report.problems_with_pairs == 1
    assert {p.problem_id for p in ps.pairs} == {"mixed"}


def test_official_grades_are_never_used(run_factory):
    # The fixture writes official grades opposite to the strict ones; an official-grade bug would flip pools.
    run = run_factory([P("p", "6", [ok("6"), bad("5")])])
    (pair,) = build_pairs(run, "correctness").pairs
    assert (pair.chosen_from.sample_idx, pair.rejected_from.sample_idx) == (0, 1)


def test_error_and_ungraded_rollouts_are_left_out_and_counted(run_factory):
    run = run_factory([P("p", "6", [ok("6"), R("", None, False, finish="error"), R("x 5", "5", False, graded=False),
                                    bad("5")])])
    ps = build_pairs(run, "correctness")
    assert [(p.chosen_from.sample_idx, p.rejected_from.sample_idx) for p in ps.pairs] == [(0, 3)]
    assert ps.report.counts["error_rollouts"] == 1 and ps.report.counts["ungraded_rollouts"] == 1


def _grid_problem(pid: str, n: int = 6) -> P:
    return P(pid, "7", [ok("7", [f"correct way {i}"]) for i in range(n)] + [bad(str(10 + i)) for i in range(n)])


def test_cap_is_15_per_problem_and_pool_and_configurable(run_factory):
    run = run_factory([_grid_problem("a"), _grid_problem("b")])
    ps = build_pairs(run, "correctness")
    assert ps.config["max_pairs_per_problem"] == 15
    assert [sum(p.problem_id == pid for p in ps.pairs) for pid in "ab"] == [15, 15]
    assert ps.report.counts["capped_away"] == 2 * (36 - 15)
    small = build_pairs(run, "correctness", max_pairs_per_problem=4)
    assert [sum(p.problem_id == pid for p in small.pairs) for pid in "ab"] == [4, 4]


def test_cap_drops_to_3_for_sources_over_the_large_threshold(run_factory, monkeypatch):
    run = run_factory([_grid_problem("a")])
    monkeypatch.setattr(rules, "LARGE_SOURCE_ROLLOUTS", 11)  # the run has 12 rollouts
    ps = build_pairs(run, "correctness")
    assert ps.config["max_pairs_per_problem"] == 3 and len(ps.pairs) == 3


def test_same_seed_same_pairs_other_seed_other_draw(run_factory):
    run = run_factory([_grid_problem("a"), _grid_problem("b")])
    first = build_pairs(run, "correctness", seed=1)
    again = build_pairs(run, "correctness", seed=1)
    other = build_pairs(run, "correctness", seed=2)
    assert [p.pair_id for p in first.pairs] == [p.pair_id for p in again.pairs]
    assert first.pairs == again.pairs
    assert {p.pair_id for p in first.pairs} != {p.pair_id for p in other.pairs}


def test_draw_of_a_problem_does_not_depend_on_other_problems(run_factory):
    alone = build_pairs(run_factory([_grid_problem("b")]), "correctness", seed=3)
    together = build_pairs(run_factory([_grid_problem("a"), _grid_problem("b")]), "correctness", seed=3)
    assert [p.pair_id for p in alone.pairs] == [p.pair_id for p in together.pairs if p.problem_id == "b"]


def test_identical_rollout_texts_give_one_pair(run_factory):
    run = run_factory([P("p", "6", [ok("6"), ok("6"), bad("5"), bad("5")])])
    ps = build_pairs(run, "correctness")
    assert len(ps.pairs) == 1 and ps.report.counts["duplicate_pairs"] == 3


def test_duplicate_problems_do_not_repeat_pairs(run_factory):
    rollouts = [ok("6"), bad("5")]
    run = run_factory([P("p1", "6", rollouts, question="Same?", image_key=0),
                       P("p2", "6", rollouts, question="Same?", image_key=0)])
    ps = build_pairs(run, "correctness")
    assert [p.problem_id for p in ps.pairs] == ["p1"]
    assert ps.report.no_pairs == {"all pairs duplicate another problem's pairs": ["p2"]}


def test_scores_of_the_runs_critic_travel_as_provenance(run_factory):
    run = run_factory([P("p", "6", [ok("6", scores=[0.9, 0.8]), bad("5", scores=[0.4, 0.2])])])
    (pair,) = build_pairs(run, "correctness").pairs
    prov = pair.provenance()
    assert prov["chosen"]["score"] == pytest.approx(0.85) and prov["rejected"]["step_scores"] == [0.4, 0.2]
    assert prov["chosen"]["extracted"] == "6" and prov["rejected"]["grade_reason"] == "mismatch"


def test_unknown_method_is_refused_with_a_suggestion(run_factory):
    run = run_factory([P("p", "6", [ok("6"), bad("5")])])
    with pytest.raises(KeyError, match="did you mean 'correctness'"):
        build_pairs(run, "corectness")


def test_bad_input_costs_only_its_problem(run_factory):
    run = run_factory([P("mismatch", "6", [ok("6"), bad("5")], question="Compare <image> with <image>"),
                       P("fine", "6", [ok("6"), bad("5")])])
    ps = build_pairs(run, "correctness")
    assert ps.report.no_pairs == {"prompt <image> placeholders do not match the images": ["mismatch"]}


def test_changed_prompt_files_are_refused(run_factory):
    from tts.rundir import ConfigConflict, RunDir

    path = run_factory([P("p", "6", [ok("6"), bad("5")])])
    run = RunDir.open(path, create=False, write=True)
    run.manifest["config"]["prompt"]["fingerprint"] = "0123456789abcdef"
    run.save()
    with pytest.raises(ConfigConflict, match="other prompt files"):
        build_pairs(path, "correctness")
