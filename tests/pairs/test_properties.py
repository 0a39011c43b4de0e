"""Invariants of the pair rules on random runs (in memory, no files): hypothesis property tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tts.pairs.build import PairOptions, pairs_from_view
from tts.pairs.rules import entailed
from tts.pairs.source import RunView, Sample, aggregate
from tts.records import Grade, Problem

GOLDS = ("1", "2", "12")
ANSWERS = ("1", "2", "12", "21", "x", "2.0")
QUIET = PairOptions(progress=False)


@st.composite
def samples(draw, pid: str, gold: str) -> list[Sample]:
    out = []
    for idx in range(draw(st.integers(0, 8))):
        outcome = draw(st.sampled_from(["correct", "incorrect", "format", "ungraded", "error"]))
        answer = gold if outcome == "correct" else draw(st.sampled_from([a for a in ANSWERS if a != gold]))
        n_steps = draw(st.integers(1, 4))
        steps = tuple(draw(st.sampled_from(["Look.", "Add.", "Subtract.", "Check."])) for _ in range(n_steps - 1))
        steps += (f"Answer: {answer if outcome != 'format' else '?'}",)
        scores = tuple(draw(st.lists(st.floats(0, 1), min_size=n_steps, max_size=n_steps))) if draw(st.booleans()) else ()
        grade = None if outcome == "ungraded" else Grade(pid, idx, None if outcome == "format" else answer,
                                                         outcome == "correct", outcome)
        out.append(Sample(idx, "\n\n".join(steps), "error" if outcome == "error" else "stop", grade, steps, scores,
                          aggregate(scores, "mean") if scores else None))
    return out


@st.composite
def views(draw) -> RunView:
    problems, all_samples = [], {}
    for k in range(draw(st.integers(1, 4))):
        pid = f"p{k}"
        gold = draw(st.sampled_from((*GOLDS, None)))
        problems.append(Problem(id=pid, benchmark="demo", split="test", question=f"Q{k}?", answer=gold))
        all_samples[pid] = draw(samples(pid, gold or "none"))
    return RunView(Path("/nonexistent"), problems, all_samples, "internvl_cot", "", "visualprm", "mean",
                   sum(map(len, all_samples.values())))


def _by_idx(view: RunView, pid: str) -> dict[int, Sample]:
    return {s.idx: s for s in view.samples[pid]}


def _common_invariants(view: RunView, ps, cap: int) -> None:
    report = ps.report
    accounted = Counter(pid for ids in report.no_pairs.values() for pid in ids)
    with_pairs = {p.problem_id for p in ps.pairs}
    assert report.problems == len(view.problems) and report.problems_with_pairs == len(with_pairs)
    assert set(accounted) | with_pairs == {p.id for p in view.problems}
    assert not set(accounted) & with_pairs and all(v == 1 for v in accounted.values())
    assert len({p.dedup_key() for p in ps.pairs}) == len(ps.pairs)
    assert max(Counter((p.problem_id, p.kind) for p in ps.pairs).values(), default=0) <= cap
    assert report.pairs == len(ps.pairs)


@settings(max_examples=150, deadline=None)
@given(views(), st.integers(1, 5), st.integers(0, 3))
def test_correctness_pairs_never_have_an_incorrect_chosen(view, cap, seed):
    ps = pairs_from_view(view, "correctness", seed=seed, max_pairs_per_problem=cap, options=QUIET)
    _common_invariants(view, ps, cap)
    for p in ps.pairs:
        samples = _by_idx(view, p.problem_id)
        chosen, rejected = samples[p.chosen_from.sample_idx], samples[p.rejected_from.sample_idx]
        assert chosen.outcome == "correct" and chosen.grade is not None and chosen.grade.correct
        assert rejected.outcome == ("incorrect" if p.kind == "correctness" else "format")
        assert (p.chosen, p.rejected) == (chosen.text, rejected.text)
        if p.kind == "correctness":
            assert not entailed(chosen.extracted, rejected.extracted)
    again = pairs_from_view(view, "correctness", seed=seed, max_pairs_per_problem=cap, options=QUIET)
    assert again.pairs == ps.pairs and again.report.to_json() == ps.report.to_json()


@settings(max_examples=150, deadline=None)
@given(views(), st.integers(1, 5), st.none() | st.floats(0, 0.5))
def test_prm_pairs_are_scored_correct_over_scored_wrong(view, cap, margin):
    ps = pairs_from_view(view, "prm", max_pairs_per_problem=cap, options=PairOptions(min_margin=margin, progress=False))
    _common_invariants(view, ps, cap)
    for p in ps.pairs:
        samples = _by_idx(view, p.problem_id)
        chosen, rejected = samples[p.chosen_from.sample_idx], samples[p.rejected_from.sample_idx]
        assert chosen.outcome == "correct" and rejected.outcome in ("incorrect", "format")
        assert chosen.score is not None and rejected.score is not None
        if margin is not None:
            assert chosen.score - rejected.score >= margin
    # Without a margin, a problem's first pair uses its best-scored correct rollout (all correct rollouts share
    # the gold answer, so the substring rule cannot drop the best one alone).
    for pid in {p.problem_id for p in ps.pairs}:
        first = next(p for p in ps.pairs if p.problem_id == pid)
        if margin is None:
            best = max(s.score for s in view.samples[pid] if s.outcome == "correct" and s.score is not None)
            assert first.chosen_from.score == best


@settings(max_examples=150, deadline=None)
@given(views(), st.integers(1, 5), st.floats(0.05, 0.95))
def test_step_pairs_fork_a_real_shared_prefix(view, cap, threshold):
    ps = pairs_from_view(view, "step", max_pairs_per_problem=cap, options=PairOptions(threshold=threshold, progress=False))
    _common_invariants(view, ps, cap)
    for p in ps.pairs:
        samples = _by_idx(view, p.problem_id)
        chosen, rejected = samples[p.chosen_from.sample_idx], samples[p.rejected_from.sample_idx]
        t = p.details["step_index"]
        assert chosen.outcome == "correct" and rejected.outcome in ("incorrect", "format")
        assert chosen.text.startswith(p.chosen_response) and rejected.text.startswith(p.rejected_response)
        assert all(s >= threshold for s in rejected.step_scores[:t]) and rejected.step_scores[t] < threshold
        assert chosen.step_scores[t] >= threshold and p.chosen != p.rejected
