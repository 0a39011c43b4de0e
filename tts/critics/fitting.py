"""Fitting a scoring sequence into the critic's context, and packing sequences into forward batches.

Truncation rule (the reference code has none; it fails on over-long inputs). When the rendered sequence
of a rollout is longer than the critic's context, the *start of the solution* is given up, never the
system prompt, the image or the question, since a step cannot be judged without the problem:

1. whole leading steps are dropped, as few as possible — the first kept step then opens the first user
   turn (``### Question: … ### Solution Process: <first kept step>``), exactly as if the solution began
   there;
2. if even the last step alone does not fit, its text is cut from the left (its end, which carries the
   final answer, is kept);
3. if the question and image alone do not fit, the rollout is not scored (reason ``too_long``).

The record then holds only the kept steps (``scores[i]`` scores ``steps[i]``) and the flags
``truncated`` and ``dropped_steps:<k>`` (plus ``clipped_step`` after rule 2).

Example:
    >>> fit = fit_steps(["a" * 5, "b" * 5, "c" * 5], lambda s: list("q" + "".join(s)), 11,
    ...                 encode_text=list, decode="".join)
    >>> fit.steps, fit.flags
    (('bbbbb', 'ccccc'), ('truncated', 'dropped_steps:1'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Fitted:
    steps: tuple[str, ...]
    ids: list[int]
    dropped: int = 0  # leading steps given up
    clipped: bool = False  # the first kept step was cut from the left

    @property
    def flags(self) -> tuple[str, ...]:
        if not self.dropped and not self.clipped:
            return ()
        return ("truncated", f"dropped_steps:{self.dropped}") + (("clipped_step",) if self.clipped else ())


def fit_steps(steps: Sequence[str], build: Callable[[Sequence[str]], list[int]], max_length: int | None, *,
              encode_text: Callable[[str], list[int]], decode: Callable[[list[int]], str]) -> Fitted | None:
    """Keep as much of the end of the solution as fits in ``max_length`` tokens; ``None`` if nothing fits.

    ``build(steps)`` renders and tokenizes the whole scoring sequence for those steps.
    """
    steps = list(steps)
    ids = build(steps)
    if max_length is None or len(ids) <= max_length:
        return Fitted(tuple(steps), ids)
    lo, hi = 1, len(steps) - 1  # find the fewest leading steps to drop (lengths shrink as steps go)
    best: tuple[int, list[int]] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = build(steps[mid:])
        if len(candidate) <= max_length:
            best, hi = (mid, candidate), mid - 1
        else:
            lo = mid + 1
    if best is not None:
        return Fitted(tuple(steps[best[0]:]), best[1], dropped=best[0])
    last = steps[-1]
    dropped = len(steps) - 1
    step_ids = encode_text(last)
    overflow = len(build([last])) - max_length
    for slack in (0, 1, 2, 4, 8, 16):  # re-tokenising the cut text may merge differently at the cut
        cut = overflow + slack
        if cut >= len(step_ids):
            return None
        text = decode(step_ids[cut:])
        candidate = build([text])
        if len(candidate) <= max_length and text.strip():
            return Fitted((text,), candidate, dropped=dropped, clipped=True)
    return None


def pack_by_budget(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Group sequence indices into batches whose padded size (rows × longest) stays within ``budget``.

    Longest first, so similar lengths share a batch and padding stays small; a sequence longer than the
    budget gets a batch of its own.

    >>> pack_by_budget([5, 3, 9, 4], budget=12)
    [[2], [0, 3], [1]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
