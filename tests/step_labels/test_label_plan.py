"""Which rollouts and steps are labelled, their prefixes and seeds, the rounds, and the estimate (no model)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.critics.steps import split_steps
from tts.records import MCStep, Problem, Rollout
from tts.step_labels.plan import Target, estimate, next_round, select_targets, unit_seed


def _problem(pid: str, answer: str | None = "1") -> Problem:
    return Problem(id=pid, benchmark="demo", split="s", question="q", answer=answer)


def _rollout(pid: str, idx: int, text: str, finish: str = "stop", tokens: int = 40) -> Rollout:
    return Rollout(pid, idx, text, finish, 10, tokens, 2.0, "m", "e")  # type: ignore[arg-type]


def _target(text: str, max_steps: int | None = 16) -> Target:
    return Target(_problem("p"), _rollout("p", 0, text), tuple(split_steps(text, max_steps=max_steps)))


def _step(t: Target, k: int, correct: int, total: int = 4, flags: tuple[str, ...] = ()) -> MCStep:
    return MCStep(t.problem.id, t.rollout.sample_idx, k, len(t.steps), correct, total, flags=flags)


def test_selection_takes_the_first_rollouts_and_says_what_it_left_out():
    problems = [_problem("a"), _problem("b", None), _problem("c"), _problem("d")]
    rollouts = [_rollout("a", i, f"step {i}\n\nAnswer: 1") for i in range(6)]
    rollouts += [_rollout("b", 0, "x"), _rollout("c", 0, "  \n"), _rollout("c", 1, "y", "error"),
                 _rollout("d", 0, "one\n\ntwo")]
    sel = select_targets(problems, rollouts, rollouts_per_problem=4, max_steps=16)
    assert [t.key for t in sel.targets] == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("d", 0)]
    assert sel.counts() == {"no_gold_answer": 1, "fewer_rollouts": 2, "empty_rollout": 1, "engine_error": 1}
    assert sel.skipped["empty_rollout"] == ["c#0"] and sel.skipped["engine_error"] == ["c#1"]


def test_steps_are_the_critics_split_merged_to_max_steps():
    text = "\n\n".join(f"s{i}" for i in range(20))
    t = _target(text, max_steps=16)
    assert list(t.steps) == split_steps(text, max_steps=16) and len(t.steps) == 10  # ceil(20/16)=2 per step
    assert t.prefix(0) == "s0\n\ns1" and t.prefix(len(t.steps) - 1) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab \n", max_size=6), min_size=1, max_size=30), st.integers(1, 16))
def test_every_prefix_is_the_rollout_text_up_to_the_end_of_its_step(pieces, max_steps):
    text = "\n\n".join(pieces)
    if not text.strip():
        return
    t = _target(text, max_steps)
    ends = []
    for k in range(len(t.steps)):
        prefix = t.prefix(k)
        assert text.startswith(prefix)
        ends.append(len(prefix))
    assert ends == sorted(ends) and t.prefix(len(t.steps) - 1) == text
    assert len(t.steps) <= max_steps


def test_seeds_depend_on_problem_sample_and_step_only():
    seeds = {unit_seed(0, p, s, k) for p in ("a", "b") for s in range(4) for k in range(16)}
    assert len(seeds) == 2 * 4 * 16
    assert unit_seed(7, "a", 1, 2) == unit_seed(7, "a", 1, 2) != unit_seed(8, "a", 1, 2)


def test_without_early_stop_every_pending_step_goes_in_one_round():
    t = _target("a\n\nb\n\nc\n\nd")
    done = {t.step_key(1): _step(t, 1, 0)}
    units, settled = next_round([t], done, seed=0, early_stop=False, failed=set())
    assert [u.step_idx for u in units] == [0, 2, 3] and not settled
    assert [u.seed for u in units] == [unit_seed(0, "p", 0, k) for k in (0, 2, 3)]
    units, _ = next_round([t], done, seed=0, early_stop=False, failed={t.step_key(2)})
    assert [u.step_idx for u in units] == [0, 3]


def test_early_stop_goes_step_by_step_and_settles_the_rest_after_a_zero():
    t = _target("a\n\nb\n\nc\n\nd")
    done: dict = {}
    units, settled = next_round([t], done, seed=0, early_stop=True, failed=set())
    assert [u.step_idx for u in units] == [0] and not settled
    done[t.step_key(0)] = _step(t, 0, 2)
    units, settled = next_round([t], done, seed=0, early_stop=True, failed=set())
    assert [u.step_idx for u in units] == [1]
    done[t.step_key(1)] = _step(t, 1, 0)
    units, settled = next_round([t], done, seed=0, early_stop=True, failed=set())
    assert not units and [k for _, k in settled] == [2, 3]


def test_estimate_counts_pending_steps_times_k_and_says_when_it_is_a_bound():
    a = _target("one two\n\nthree four\n\nAnswer: 1")
    b = Target(_problem("q"), _rollout("q", 1, "x\n\ny", tokens=10), ("x", "y"))
    done = {a.step_key(0): _step(a, 0, 1)}
    est = estimate([a, b], done, continuations=16, early_stop=False)
    assert (est.rollouts, est.steps, est.steps_done, est.continuations) == (2, 5, 1, 4 * 16)
    assert est.exact and est.tokens > 0 and est.seconds == pytest.approx(est.tokens / (50 / 4))
    assert "64 continuations (16 per step)" in est.describe() and "at most" not in est.describe()
    bound = estimate([a, b], done, continuations=16, early_stop=True)
    assert bound.continuations == 64 and not bound.exact and "at most 64" in bound.describe()
