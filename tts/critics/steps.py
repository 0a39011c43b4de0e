"""Splitting a response into the steps a process reward model scores.

VisualPRM's rule (its data pipeline and ``select_best_response``): split on blank lines (``"\\n\\n"``),
then, when there are more than ``max_steps`` pieces, merge consecutive pieces evenly into chunks of
``ceil(len / max_steps)`` pieces joined by the separator. Pieces are kept exactly as split, empty ones
included, because that is what the critic was trained on.

Example:
    >>> split_steps("a\\n\\nb\\n\\nc", max_steps=2)
    ['a\\n\\nb', 'c']
"""

from __future__ import annotations

import math


def split_steps(response: str, sep: str = "\n\n", max_steps: int | None = 12) -> list[str]:
    """Steps of ``response``; an empty or whitespace-only response has no steps."""
    if not response.strip():
        return []
    pieces = response.split(sep)
    if max_steps is None or len(pieces) <= max_steps:
        return pieces
    size = math.ceil(len(pieces) / max_steps)
    return [sep.join(pieces[i : i + size]) for i in range(0, len(pieces), size)]
