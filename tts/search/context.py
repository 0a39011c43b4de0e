"""What the models need to render one problem in a search: :class:`ProblemContext`.

A :class:`~tts.search.types.SearchProblem` carries it as its opaque ``context``: the policy prompt with its
``<image>`` placeholders (what the policy is asked, and the question VisualPRM sees by default), the decoded
images (decoded once per problem for the whole search), the per-benchmark tiling cap and the benchmark
question alone (a critic set to ``question="raw"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProblemContext:
    prompt: str
    images: tuple[Any, ...] = field(default=(), repr=False)
    max_tiles: int | None = None
    raw_question: str | None = None


def context_of(problem: Any) -> ProblemContext:
    """The problem's :class:`ProblemContext` (a search problem built without one cannot reach a model)."""
    ctx = getattr(problem, "context", None)
    if not isinstance(ctx, ProblemContext):
        raise TypeError(f"{getattr(problem, 'problem_id', problem)!r}: a search problem needs a ProblemContext "
                        "(prompt, images, tiling) to reach a model")
    return ctx
