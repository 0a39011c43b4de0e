"""Detect rollouts stuck in a loop, after the fact (any engine) or while generating (transformers).

Why: the InternVL2.5 report names repetitive output as the most harmful failure of test-time scaling: a
looping chain of thought runs to the token limit, costs the most compute and never reaches an answer.
Flagged rollouts are kept and scored like any other; the flag (``"repetition"``) lets analyses count them.

What counts as a loop: the sequence (token ids, or text units for servers that return only text) has a
stretch with period ``p`` — every unit equals the one ``p`` positions earlier — that covers at least
``min_repeats`` periods and at least ``min_span`` units, for some ``p <= max_period``. With the defaults a
sentence of 20 tokens must be said 4 times in a row, a single token 64 times in a row. Ordinary
chain-of-thought text (enumerations, tables, repeated formulas with different numbers) does not qualify.

The post-hoc check (:meth:`RepetitionDetector.find`) and the streaming one
(:func:`repetition_stopping_criteria`) compute the same thing: the streaming version keeps, per sequence
and period, the length of the current run of matches and fires as soon as any run reaches its threshold.

Example:
    >>> detector = RepetitionDetector()
    >>> detector.find([5, 6, 7] * 30)
    Loop(period=3, start=0, length=90)
    >>> detector.find(list(range(200))) is None
    True
    >>> text_units("Let us think. " * 3)[:6]
    ['Let', ' ', 'us', ' ', 'thin', 'k']
    >>> detector.find_in_text("So the answer is 4. " * 20) is not None
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

REPETITION_FLAG = "repetition"

# Words cut into pieces of at most 4 characters, single punctuation marks, whitespace runs: roughly one
# unit per token, so the token-level thresholds also fit text, and a run like "0000…" still repeats.
_TEXT_UNIT = re.compile(r"\w{1,4}|[^\w\s]|\s+")


def text_units(text: str) -> list[str]:
    """Split text into token-sized units for repetition detection when no token ids are available."""
    return _TEXT_UNIT.findall(text)


@dataclass(frozen=True)
class Loop:
    period: int  # units per repetition
    start: int  # first unit of the periodic stretch
    length: int  # units covered by the stretch


@dataclass(frozen=True)
class RepetitionDetector:
    """Thresholds of the loop test (units are tokens, or :func:`text_units`)."""

    min_repeats: int = 4
    min_span: int = 64
    max_period: int = 512

    def __post_init__(self) -> None:
        if self.min_repeats < 2 or self.min_span < 2 or self.max_period < 1:
            raise ValueError("min_repeats and min_span must be >= 2, max_period >= 1")

    def run_needed(self, period: int) -> int:
        """Matches in a row (unit == unit ``period`` earlier) that make a loop of that period."""
        return max((self.min_repeats - 1) * period, self.min_span - period)

    def find(self, seq: Sequence[Any]) -> Loop | None:
        """The first loop found (shortest period first), or None."""
        import numpy as np

        if not len(seq):
            return None
        if isinstance(seq[0], str):
            codes: dict[str, int] = {}
            arr = np.fromiter((codes.setdefault(u, len(codes)) for u in seq), dtype=np.int64, count=len(seq))
        else:
            arr = np.asarray(seq, dtype=np.int64)
        n = arr.shape[0]
        for period in range(1, self.max_period + 1):
            if self.min_repeats * period > n:
                break  # longer periods need even more units
            need = self.run_needed(period)
            if need + period > n:
                continue
            same = arr[period:] == arr[:-period]
            # Longest run of consecutive True values in `same`.
            padded = np.concatenate(([False], same, [False])).astype(np.int8)
            edges = np.flatnonzero(np.diff(padded))
            if edges.size == 0:
                continue
            starts, ends = edges[0::2], edges[1::2]
            lengths = ends - starts
            best = int(np.argmax(lengths))
            if lengths[best] >= need:
                return Loop(period, int(starts[best]), int(lengths[best]) + period)
        return None

    def find_in_text(self, text: str) -> Loop | None:
        return self.find(text_units(text))


DEFAULT_DETECTOR = RepetitionDetector()


def repetition_stopping_criteria(detector: RepetitionDetector, batch_size: int, device: Any):
    """A transformers ``StoppingCriteria`` that ends each sequence of a batch when it starts to loop.

    It sees only generated tokens (generation from ``inputs_embeds`` passes no prompt ids) and records, per
    row, how many tokens the row had when it was stopped (``stopped_at``, -1 while running), so the engine
    can cut the row there and mark it.
    """
    import torch
    from transformers import StoppingCriteria

    class RepetitionStop(StoppingCriteria):
        def __init__(self) -> None:
            self.detector = detector
            periods = torch.arange(1, detector.max_period + 1, device=device)
            self.periods = periods
            self.need = torch.tensor([detector.run_needed(int(p)) for p in periods], device=device)
            self.runs = torch.zeros(batch_size, detector.max_period, dtype=torch.long, device=device)
            self.stopped_at = torch.full((batch_size,), -1, dtype=torch.long, device=device)
            self.seen = 0

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            length = input_ids.shape[1]
            for pos in range(self.seen, length):
                back = pos - self.periods  # index of the unit `period` positions earlier
                valid = back >= 0
                earlier = input_ids[:, back.clamp(min=0)]
                same = (earlier == input_ids[:, pos : pos + 1]) & valid
                self.runs = torch.where(same, self.runs + 1, torch.zeros_like(self.runs))
                fired = (self.runs >= self.need).any(dim=1) & (self.stopped_at < 0)
                self.stopped_at = torch.where(fired, torch.full_like(self.stopped_at, pos + 1), self.stopped_at)
            self.seen = length
            return self.stopped_at >= 0

    return RepetitionStop()
