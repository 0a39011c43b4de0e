"""The loop detector: what it flags, what it leaves alone, and the streaming criterion agreeing with it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.engines.repetition import RepetitionDetector, repetition_stopping_criteria, text_units

DETECTOR = RepetitionDetector()


@pytest.mark.parametrize(("seq", "period"), [
    ([7] * 64, 1),                      # one token 64 times
    ([1, 2] * 32, 2),
    (list(range(20)) * 4, 20),          # a 20-token sentence said 4 times
    (list(range(100, 300)) + list(range(30)) * 4, 30),  # a loop after ordinary text
])
def test_loops_are_found(seq, period):
    loop = DETECTOR.find(seq)
    assert loop is not None and loop.period == period


@pytest.mark.parametrize("seq", [
    [7] * 63,                           # one short of the span
    list(range(20)) * 3,                # 3 repeats of a sentence are not yet a loop
    list(range(1000)),
    [],
])
def test_ordinary_sequences_are_not_loops(seq):
    assert DETECTOR.find(seq) is None


def test_text_loops_and_ordinary_reasoning():
    looping = "Let me check the area again. " * 8
    assert DETECTOR.find_in_text("The triangle has sides 3, 4, 5.\n\n" + looping) is not None
    assert DETECTOR.find_in_text("1." + "0" * 300) is not None  # 75 units of "0000"
    assert DETECTOR.find_in_text("1." + "0" * 200) is None
    reasoning = "\n\n".join(f"Step {i}: the sum of the first {i} odd numbers is {i * i}." for i in range(1, 30))
    assert DETECTOR.find_in_text(reasoning) is None
    assert "".join(text_units(reasoning)) == reasoning


def test_thresholds_are_validated():
    with pytest.raises(ValueError):
        RepetitionDetector(min_repeats=1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=40), st.integers(1, 12), st.integers(0, 30), st.integers(0, 10**6))
def test_streaming_criterion_fires_exactly_when_the_detector_does(prefix, period, extra, seed):
    """Property: feeding tokens one at a time, the criterion stops a row at the first length at which
    the post-hoc detector finds a loop in the prefix generated so far."""
    import torch

    small = RepetitionDetector(min_repeats=3, min_span=12, max_period=16)
    rng = random.Random(seed)
    unit = [rng.randrange(4) for _ in range(period)]
    seqs = [prefix + unit * (3 + extra // period), [rng.randrange(50) for _ in range(60)]]
    length = max(len(s) for s in seqs)
    rows = torch.tensor([s + [999 + i] * (length - len(s)) for i, s in enumerate(seqs)])  # distinct fillers
    crit = repetition_stopping_criteria(small, batch_size=2, device="cpu")
    for t in range(1, length + 1):
        crit(rows[:, :t], None)
    for r, _seq in enumerate(seqs):
        padded = rows[r].tolist()
        first = next((t for t in range(1, length + 1) if small.find(padded[:t]) is not None), -1)
        assert crit.stopped_at[r].item() == first
