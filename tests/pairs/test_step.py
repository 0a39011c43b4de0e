"""Step-level pairs (Step-DPO layout) at the first step the critic scores below the threshold."""

from __future__ import annotations

from tests.pairs.conftest import P, R, bad, ok
from tts.pairs import build_pairs
from tts.pairs.types import NO_LOW_STEP, NO_SHARED_PREFIX
from tts.records import StepScores
from tts.rundir import RunDir

LOOK = "Look at the figure."
GOOD = ok("6", [LOOK, "The legs are 3 and 4.", "The area is 6."], [0.9, 0.9, 0.8, 0.9])
WRONG_AT_1 = bad("7.5", [LOOK, "The legs are 3 and 5.", "The area is 7.5."], [0.9, 0.2, 0.3, 0.3])
WRONG_AT_0 = bad("12", ["It is a square.", "The area is 12."], [0.1, 0.3, 0.2])
WRONG_NEVER_LOW = bad("8", [LOOK, "Sides 4 and 4.", "Area 8."], [0.9, 0.8, 0.7, 0.6])


def test_fork_at_the_first_low_step_with_shared_prefix(run_factory):
    run = run_factory([P("p", "6", [GOOD, WRONG_AT_1, WRONG_AT_0, WRONG_NEVER_LOW])])
    ps = build_pairs(run, "step")
    got = [(p.rejected_from.sample_idx, p.details["step_index"], p.initial_steps, p.chosen, p.rejected) for p in ps.pairs]
    assert got == [
        (2, 0, "", LOOK, "It is a square."),
        (1, 1, LOOK + "\n\n", "The legs are 3 and 4.", "The legs are 3 and 5."),
    ]
    assert ps.report.counts["wrong_rollouts_without_low_step"] == 1
    for p in ps.pairs:
        assert GOOD.text.startswith(p.chosen_response)
        assert [WRONG_AT_1, WRONG_AT_0][p.rejected_from.sample_idx - 1].text.startswith(p.rejected_response)
        assert p.details["rejected_step_score"] < 0.5 <= p.details["chosen_step_score"]
        assert GOOD.text == p.initial_steps + p.details["full_chosen"]


def test_threshold_moves_the_fork(run_factory):
    run = run_factory([P("p", "6", [GOOD, WRONG_AT_1])])
    (pair,) = build_pairs(run, "step", threshold=0.25).pairs
    assert pair.details["step_index"] == 1 and pair.details["threshold"] == 0.25
    ps = build_pairs(run, "step", threshold=0.1)
    assert ps.report.no_pairs == {NO_LOW_STEP: ["p"]}


def test_chosen_step_must_itself_score_well(run_factory):
    weak_good = ok("6", [LOOK, "The legs are 3 and 4.", "The area is 6."], [0.9, 0.4, 0.8, 0.9])
    run = run_factory([P("p", "6", [weak_good, WRONG_AT_1])])
    assert build_pairs(run, "step").report.no_pairs == {NO_SHARED_PREFIX: ["p"]}


def test_no_correct_rollout_shares_the_failing_prefix(run_factory):
    other_start = ok("6", ["Consider the triangle.", "The area is 6."], [0.9, 0.9, 0.9])
    run = run_factory([P("p", "6", [other_start, WRONG_AT_1])])
    assert build_pairs(run, "step").report.no_pairs == {NO_SHARED_PREFIX: ["p"]}


def test_steps_that_do_not_rebuild_the_text_are_not_used(run_factory):
    run_path = run_factory([P("p", "6", [GOOD, WRONG_AT_1])])
    run = RunDir.open(run_path, create=False, write=True)
    scores = run.file("scores", "visualprm")  # replace sample 1's scores (a second line for a key is ignored)
    scores.write_text("".join(ln for ln in scores.read_text().splitlines(True) if '"sample_idx": 1,' not in ln))
    steps = tuple(s.strip(".") for s in WRONG_AT_1.text.split("\n\n"))
    run.append([StepScores("p", 1, "visualprm", steps, (0.9, 0.2, 0.3, 0.3))], critic="visualprm")
    ps = build_pairs(run_path, "step")
    assert ps.pairs == () and ps.report.counts["steps_do_not_rebuild_text"] == 1


def test_cap_seed_and_dedup(run_factory):
    goods = [ok("6", [LOOK, f"Correct step {i}.", "Done."], [0.9, 0.9, 0.9, 0.9]) for i in range(5)]
    wrongs = [bad(str(20 + i), [LOOK, f"Wrong step {i}.", "Done."], [0.9, 0.1, 0.1, 0.1]) for i in range(5)]
    dup = R(wrongs[0].text, "20", False, [0.9, 0.1, 0.1, 0.1])
    run = run_factory([P("p", "6", goods + wrongs + [dup])])
    ps = build_pairs(run, "step", max_pairs_per_problem=7, seed=5)
    assert len(ps.pairs) == 7 and ps.report.counts["duplicate_pairs"] == 5
    assert len({(p.chosen, p.rejected) for p in ps.pairs}) == 7
    assert ps.pairs == build_pairs(run, "step", max_pairs_per_problem=7, seed=5).pairs
    assert ps.pairs != build_pairs(run, "step", max_pairs_per_problem=7, seed=6).pairs
