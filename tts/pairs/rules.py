"""MMPR's pair rules, shared by every method: the substring ("entailment") filter, the per-problem cap, seeded
sampling and the DropoutNTP truncation.

Facts (``shared/reference/mpo.md`` §2.2-2.3, InternVL ``mmpr_data_pipeline_correctness_postprocess.py``):

* a pair is skipped when the chosen response's *extracted answer*, lower-cased, is a substring of the
  rejected response's extracted answer (``answer_pred_pos.lower() in answer_pred_neg.lower()``) — the
  extracted answers are compared, not the full texts and not the gold answer;
* at most 15 pairs per question, or 3 when the source file has more than 500k lines (one line per
  rollout), drawn with ``random.sample`` from a seeded generator;
* DropoutNTP keeps the first ``int(len(words) * 0.5)`` of ``text.split(' ')`` (single spaces, so
  newlines stay inside words), re-joined with ``' '`` and stripped.

Example:
    >>> entailed("6", "16"), entailed("B", "c"), entailed("6", None)
    (True, False, False)
    >>> truncate_words("one two three four five", 0.5)
    'one two'
    >>> pair_cap(None, rollouts=600_000), pair_cap(None, rollouts=1000), pair_cap(4, rollouts=600_000)
    (3, 15, 4)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from tts.errors import ConfigError

T = TypeVar("T")

MAX_PAIRS_PER_PROBLEM = 15
LARGE_SOURCE_ROLLOUTS = 500_000
LARGE_SOURCE_MAX_PAIRS = 3


def entailed(chosen_answer: str | None, rejected_answer: str | None) -> bool:
    """MMPR's skip rule: the chosen answer appears inside the rejected answer (case-insensitive).

    The format pool has no rejected answer (InternVL compares against the literal string ``'None'`` there,
    which spuriously drops chosen answers such as ``"no"`` or ``"n"``); here the rule does not apply to it.
    """
    if chosen_answer is None or rejected_answer is None:
        return False
    return chosen_answer.lower() in rejected_answer.lower()


def pair_cap(requested: int | None, *, rollouts: int) -> int:
    """Pairs kept per problem and pool: ``requested``, else MMPR's 15 (3 for sources over 500k rollouts)."""
    if requested is not None:
        if requested < 1:
            raise ConfigError("--max-pairs (max_pairs_per_problem) must be >= 1")
        return requested
    return LARGE_SOURCE_MAX_PAIRS if rollouts > LARGE_SOURCE_ROLLOUTS else MAX_PAIRS_PER_PROBLEM


def seeded_rng(seed: int, *parts: object) -> random.Random:
    """A generator that depends only on the seed and the parts (problem id, pool), not on problem order.

    ``random.Random`` seeds a string through SHA-512, so this is stable across processes and platforms.
    """
    return random.Random(":".join([str(seed), *map(str, parts)]))


def sample_capped(candidates: Sequence[T], cap: int, rng: random.Random) -> list[T]:
    """``random.sample`` of at most ``cap`` candidates, as MMPR draws its pairs."""
    return rng.sample(list(candidates), min(len(candidates), cap))


def truncate_words(text: str, ratio: float = 0.5) -> str:
    """The DropoutNTP prefix: the first ``ratio`` of the space-separated words, stripped."""
    if not 0 < ratio < 1:
        raise ConfigError("--start-ratio (start_ratio) must be in (0, 1)")
    words = text.split(" ")
    return " ".join(words[: int(len(words) * ratio)]).strip()


def diagonal_order(n_rows: int, n_cols: int) -> list[tuple[int, int]]:
    """Cells of an ``n_rows × n_cols`` rank grid by rank sum, then row: (0,0), (0,1), (1,0), (0,2) …

    Used to pair the best-scored chosen responses with the best-scored (hardest) rejected ones without
    spending every pair on the single top chosen response.

    >>> diagonal_order(2, 3)
    [(0, 0), (0, 1), (1, 0), (0, 2), (1, 1), (1, 2)]
    """
    return sorted(((i, j) for i in range(n_rows) for j in range(n_cols)), key=lambda ij: (ij[0] + ij[1], ij[0]))
