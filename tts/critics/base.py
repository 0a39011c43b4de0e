"""The critic interface: step scores for all rollouts of a batch of problems.

A critic receives one :class:`ScoringRequest` per problem — the question as the critic should see it,
the problem's images (decoded once) and the rollouts to score — and returns, per request, one
:class:`~tts.records.StepScores` per rollout in the same order. Grouping by problem is what lets a critic
encode each image once for all N rollouts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tts.records import StepScores


@dataclass(frozen=True)
class ScoringRequest:
    problem_id: str
    question: str  # with <image> placeholders, as the policy saw it
    images: tuple[Any, ...]  # PIL images
    responses: tuple[tuple[int, str], ...]  # (sample_idx, rollout text)
    max_tiles: int | None = None  # per-benchmark tiling cap (None: the checkpoint's default)


class Critic(ABC):
    """Scores every step of every rollout. ``label`` names the scores file (``scores/<label>.jsonl``)."""

    name: str = ""

    def __init__(self, model: str, label: str | None = None) -> None:
        self.model_id = model
        self.label = label or self.name

    @abstractmethod
    def score(self, requests: Sequence[ScoringRequest]) -> list[list[StepScores]]:
        """Per request, one StepScores per response, in order."""

    def info(self) -> dict[str, Any]:
        return {"model": self.model_id, "critic": self.name, "label": self.label}

    def identity(self) -> dict[str, Any]:
        """The settings that change the scores; a resumed scoring pass must keep them."""
        return {"critic": self.name, "model": self.model_id}

    def unscored(self, problem_id: str, sample_idx: int, steps: Sequence[str], reason: str) -> StepScores:
        return StepScores(problem_id, sample_idx, self.label, tuple(steps), (), ("unscored", reason))
