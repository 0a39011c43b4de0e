"""The critic interface: step scores for all rollouts of a batch of problems.

A critic receives one :class:`ScoringRequest` per problem — the question as the policy saw it (and the raw
benchmark question), the problem's images (decoded once) and the rollouts to score — and returns, per
request, one :class:`~tts.records.StepScores` per rollout in the same order. Grouping by problem is what
lets a critic encode each image once for all N rollouts; handing several problems at once is what lets it
batch across problems.

Settings every critic shares:

* ``question`` — which question text the critic sees: ``"prompt"`` (default) is the full policy prompt
  including the chain-of-thought instruction, which is what VLMEvalKit's Best-of-N passes to
  ``select_best_response`` and what VisualPRM400K-v1.1 was built from; ``"raw"`` is the benchmark question
  alone (with its ``<image>`` placeholders).
* ``max_steps`` — steps are merged evenly down to this many (``None``: no cap).

A rollout with no steps (empty or whitespace-only text) is recorded with no scores and the flags
``("unscored", <reason>)``; every strategy ranks such a rollout last.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tts.errors import ConfigError
from tts.prompts import IMAGE_PLACEHOLDER
from tts.records import StepScores

QUESTION_SOURCES = ("prompt", "raw")


@dataclass(frozen=True)
class ScoringRequest:
    problem_id: str
    question: str  # with <image> placeholders, as the policy saw it
    images: tuple[Any, ...]  # PIL images
    responses: tuple[tuple[int, str], ...]  # (sample_idx, rollout text)
    max_tiles: int | None = None  # per-benchmark tiling cap (None: the checkpoint's default)
    raw_question: str | None = None  # the benchmark question without the policy's instruction


def strip_image_placeholders(text: str) -> str:
    """The question for a text-only critic: ``<image>`` placeholders (and the newline after each) removed.

    >>> strip_image_placeholders("<image>\\nWhat is x?")
    'What is x?'
    """
    return text.replace(IMAGE_PLACEHOLDER + "\n", "").replace(IMAGE_PLACEHOLDER, "")


class Critic(ABC):
    """Scores every step of every rollout. ``label`` names the scores file (``scores/<label>.jsonl``)."""

    name: str = ""

    def __init__(self, model: str, label: str | None = None, *, question: str = "prompt",
                 max_steps: int | None = 12) -> None:
        self.model_id = model
        self.label = label or self.name
        self.question = "prompt"
        self.max_steps: int | None = None
        self.configure(question=question, max_steps=max_steps)

    def configure(self, *, question: str | None = None, max_steps: int | None | str = "keep") -> None:
        """Change the settings that do not need the model reloaded (``max_steps="keep"`` leaves it)."""
        if question is not None:
            if question not in QUESTION_SOURCES:
                raise ConfigError(f"question must be one of {QUESTION_SOURCES}, got {question!r}")
            self.question = question
        if max_steps != "keep":
            if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
                raise ConfigError(f"max_steps must be a positive integer or None, got {max_steps!r}")
            self.max_steps = max_steps

    @abstractmethod
    def score(self, requests: Sequence[ScoringRequest]) -> list[list[StepScores]]:
        """Per request, one StepScores per response, in order."""

    def close(self) -> None:
        """Release the model (an engine's memory); the critic cannot score afterwards."""

    def question_text(self, request: ScoringRequest) -> str:
        """The question this critic is configured to see for ``request``."""
        if self.question == "raw":
            if request.raw_question is None:
                raise ValueError(f"{request.problem_id}: critic is set to question='raw' but the request "
                                 "carries no raw_question")
            return request.raw_question
        return request.question

    def info(self) -> dict[str, Any]:
        return {"model": self.model_id, "critic": self.name, "label": self.label}

    def identity(self) -> dict[str, Any]:
        """The settings that change the scores; a resumed scoring pass must keep them."""
        return {"critic": self.name, "model": self.model_id, "question": self.question, "max_steps": self.max_steps}

    def unscored(self, problem_id: str, sample_idx: int, steps: Sequence[str], reason: str) -> StepScores:
        return StepScores(problem_id, sample_idx, self.label, tuple(steps), (), ("unscored", reason))
