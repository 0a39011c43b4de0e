"""Per-row stop conditions for transformers ``generate``: stop strings and token caps that differ by row.

Why: one ``generate`` call decodes the rows of many requests (problems × samples), and in a step-level
search every request has its own budget (``max_new_tokens``) and some stop at the step boundary while
others write to the end. ``generate`` takes one ``max_new_tokens`` and one ``stop_strings`` list for the
whole batch, so :class:`RowStops` is a stopping criterion that ends each row on its own terms: it runs
transformers' own :class:`~transformers.StopStringCriteria` (which needs the tokenizer; it matches stop
strings across token boundaries, overhangs included) once per distinct stop list, keeps only the answers
of the rows that asked for that list, and records where each row first stopped and why.

After generation :func:`cut_at_stop` cuts the decoded text at the first stop string (the string itself is
left out, as vLLM's ``include_stop_str_in_output=False``).

Example:
    >>> cut_at_stop("x = 2\\n\\ny = 3", ("\\n\\n",))
    ('x = 2', True)
    >>> cut_at_stop("x = 2", ("\\n\\n",))
    ('x = 2', False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the first occurrence of any of ``stops``, and whether one occurred."""
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    if not hits:
        return text, False
    return text[: min(hits)], True


def row_stops(tokenizer: Any, stops: Sequence[tuple[str, ...]], caps: Sequence[int], device: Any) -> Any:
    """A transformers ``StoppingCriteria`` ending row ``r`` at its stop strings ``stops[r]`` or after
    ``caps[r]`` new tokens. It sees only generated tokens (generation from ``inputs_embeds``); after
    ``generate`` its ``step_at[r]`` is the row's length when a stop string first completed (-1: never) and
    ``capped_at[r]`` its length when it reached its cap (-1: never)."""
    import torch
    from transformers import StoppingCriteria, StopStringCriteria

    groups: dict[tuple[str, ...], list[int]] = {}
    for r, s in enumerate(stops):
        if s:
            groups.setdefault(tuple(s), []).append(r)

    class RowStops(StoppingCriteria):
        def __init__(self) -> None:
            self.criteria = [(StopStringCriteria(tokenizer, list(s)), torch.tensor(rows, device=device))
                             for s, rows in groups.items()]
            self.caps = torch.tensor(list(caps), dtype=torch.long, device=device)
            self.step_at = torch.full((len(caps),), -1, dtype=torch.long, device=device)
            self.capped_at = torch.full((len(caps),), -1, dtype=torch.long, device=device)

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            length = int(input_ids.shape[1])
            fired = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            if length:
                for criterion, rows in self.criteria:
                    fired[rows] = criterion(input_ids[rows], scores[rows] if scores is not None else None)
            first = fired & (self.step_at < 0)
            self.step_at = torch.where(first, torch.full_like(self.step_at, length), self.step_at)
            capped = (self.caps <= length) & (self.capped_at < 0)
            self.capped_at = torch.where(capped, torch.full_like(self.capped_at, length), self.capped_at)
            return (self.step_at >= 0) | (self.capped_at >= 0)

    return RowStops()
