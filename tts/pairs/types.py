"""The records of a preference-pair export: one side of a pair, a pair, the report, the whole set.

A :class:`Pair` is format-neutral: the policy prompt as text with ``<image>`` placeholders, the image files,
the chosen and rejected texts and, for step-level pairs, the shared assistant prefix they both continue.
Writers (:mod:`tts.pairs.formats`) turn pairs into TRL or MMPR rows; provenance (which rollouts, their
grades and critic scores) travels with every pair so a training set can always be traced back to a run.

Example:
    >>> side = Side(sample_idx=3, outcome="correct", extracted="6", score=0.91)
    >>> p = Pair(method="correctness", kind="correctness", problem_id="p1", benchmark="demo", split="test",
    ...          prompt="<image>\\nWhat is 2*3?", images=("/run/images/a.png",), answer_gt="6",
    ...          chosen="... \\\\boxed{6}", rejected="... \\\\boxed{5}", chosen_from=side,
    ...          rejected_from=Side(sample_idx=1, outcome="incorrect", extracted="5"))
    >>> p.chosen_response == p.chosen and len(p.pair_id)
    16
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Why a problem yielded no pair: a fixed vocabulary so reports of different runs can be compared.
NO_ROLLOUTS = "no rollouts"
NO_GOLD = "no gold answer"
NOT_GRADED = "not graded"
ALL_ERRORS = "every rollout is an engine error"
NO_CORRECT = "no correct rollout"
ALL_CORRECT = "all rollouts correct"
ALL_ENTAILED = "every pair had the chosen answer inside the rejected answer"
NOT_SCORED = "no critic scores"
BELOW_MARGIN = "no pair reaches the minimum score margin"
NO_LOW_STEP = "no incorrect rollout has a step scored below the threshold"
NO_SHARED_PREFIX = "no correct rollout continues a failing prefix with a good step"
MISSING_IMAGE = "image file missing"
PLACEHOLDER_MISMATCH = "prompt <image> placeholders do not match the images"
TOO_SHORT = "chosen response too short to truncate"
GENERATION_FAILED = "generation failed"
SAME_TEXT = "continuation reproduced the chosen response"


@dataclass(frozen=True)
class Side:
    """Where one side of a pair came from: a rollout (``sample_idx``) or a generation (``sample_idx=None``)."""

    sample_idx: int | None
    outcome: str  # correct | incorrect | format | generated
    extracted: str | None = None
    grade_reason: str | None = None
    score: float | None = None  # aggregated critic score of the whole rollout
    step_scores: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"sample_idx": self.sample_idx, "outcome": self.outcome, "extracted": self.extracted,
                "grade_reason": self.grade_reason, "score": self.score, "step_scores": list(self.step_scores)}


@dataclass(frozen=True)
class Pair:
    """One preference pair.

    ``initial_steps`` is empty except for step-level pairs (Step-DPO's ``initial_reason_steps``): the
    correct steps both sides share, which ``chosen`` and ``rejected`` (one step each) continue. Formats
    without an assistant-prefix slot use :attr:`chosen_response` / :attr:`rejected_response`.
    """

    method: str
    kind: str  # correctness | format | prm | prm_format | dropout_ntp | step
    problem_id: str
    benchmark: str
    split: str
    prompt: str  # the policy prompt, with <image> placeholders
    images: tuple[str, ...]  # absolute paths of the image files, in placeholder order
    answer_gt: str | None
    chosen: str
    rejected: str
    chosen_from: Side
    rejected_from: Side
    initial_steps: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)  # method-specific facts (step index, prefix, …)

    @property
    def chosen_response(self) -> str:
        """The whole chosen assistant reply (shared steps + chosen text)."""
        return self.initial_steps + self.chosen

    @property
    def rejected_response(self) -> str:
        """The whole rejected assistant reply (shared steps + rejected text)."""
        return self.initial_steps + self.rejected

    def dedup_key(self) -> tuple:
        """MMPR's de-duplication key (image, question, chosen, rejected, answer_gt), prefix included."""
        return (self.images, self.prompt, self.initial_steps, self.chosen, self.rejected, self.answer_gt)

    @functools.cached_property
    def pair_id(self) -> str:
        """A stable id: the same pair from the same run always gets the same id."""
        key = json.dumps([self.method, self.kind, self.problem_id, self.chosen_from.sample_idx,
                          self.rejected_from.sample_idx, self.initial_steps, self.chosen, self.rejected])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def provenance(self) -> dict[str, Any]:
        """Everything needed to trace the pair back to the run (one line of ``*.provenance.jsonl``)."""
        return {
            "pair_id": self.pair_id, "method": self.method, "kind": self.kind, "problem_id": self.problem_id,
            "benchmark": self.benchmark, "split": self.split, "answer_gt": self.answer_gt,
            "chosen": self.chosen_from.to_json(), "rejected": self.rejected_from.to_json(),
            "details": dict(self.details),
        }


WARNING_EXAMPLES = 20
"""Failure messages kept in a pair report (all of them are counted under ``counts``)."""


@dataclass
class PairReport:
    """How many problems yielded pairs, and for every other problem the reason it did not."""

    method: str
    problems: int = 0
    problems_with_pairs: int = 0
    pairs_by_kind: dict[str, int] = field(default_factory=dict)
    no_pairs: dict[str, list[str]] = field(default_factory=dict)  # reason -> problem ids
    counts: dict[str, int] = field(default_factory=dict)  # filter counters (substring skips, duplicates …)
    warnings: list[str] = field(default_factory=list)  # why generation failed (dropout-ntp), one line each

    @property
    def pairs(self) -> int:
        return sum(self.pairs_by_kind.values())

    def skip(self, problem_id: str, reason: str) -> None:
        self.no_pairs.setdefault(reason, []).append(problem_id)

    def count(self, name: str, k: int = 1) -> None:
        if k:
            self.counts[name] = self.counts.get(name, 0) + k

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method, "problems": self.problems, "problems_with_pairs": self.problems_with_pairs,
            "pairs": self.pairs, "pairs_by_kind": dict(sorted(self.pairs_by_kind.items())),
            "no_pairs": {r: len(ids) for r, ids in sorted(self.no_pairs.items())},
            "no_pairs_problems": {r: list(ids) for r, ids in sorted(self.no_pairs.items())},
            "counts": dict(sorted(self.counts.items())),
            "warnings": self.warnings[:WARNING_EXAMPLES],
        }


@dataclass(frozen=True)
class PairSet:
    """The pairs built from one run by one method, with the settings used and the report.

    ``system_message`` is the policy's system prompt during sampling (TRL rows carry it as a system turn so
    the trained model sees the conversation the rollouts were sampled in; ``""`` is an empty system turn, as
    InternVL's template writes one; ``None``, when the run does not record it, writes none).
    """

    run_dir: str
    method: str
    pairs: tuple[Pair, ...]
    report: PairReport
    config: Mapping[str, Any]
    system_message: str | None = None

    def __len__(self) -> int:
        return len(self.pairs)
