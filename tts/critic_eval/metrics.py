"""VisualProcessBench's metric: macro-F1 of correct and incorrect steps, neutral steps excluded.

Definitions (paper §3.3 / Table 3, arXiv 2503.10291; ``shared/reference/visualprm.md`` §3.5):

* only steps labelled correct (1) or incorrect (-1) count; neutral steps (0) and steps the critic gave no
  score are left out (the report counts both);
* a step is *predicted correct* iff its score is strictly above the threshold (the paper: correct "if the
  probability of outputting '+' exceeds that of outputting '-' by a certain threshold"; with a score
  P(+ | +,-) the margin τ is the score threshold (1 + τ) / 2, so 0.5 is "P(+) > P(-)"). The paper gives no
  value; the default here is 0.5;
* F1 of a class = 2·TP / (2·TP + FP + FN) with that class as the positive one, 0 when the class has neither
  steps nor predictions (scikit-learn's ``zero_division`` default); macro-F1 = the mean of the two;
* a source's score is the macro-F1 of its steps; "overall" is the macro-F1 of all steps pooled, which is
  what "the micro average of the score from different data sources" must mean: Table 3's overall (62.0 for
  VisualPRM-8B) is above its per-source values' step-weighted mean (61.4) and plain mean (61.2), which
  only pooling can give; the same holds for every row of the table.

The threshold sweep is exact: the predictions only change at the distinct scores, so evaluating "score >
t" at every distinct score and once below the lowest covers every possible labelling, and the best
threshold found is at least as good as any other threshold.

Example:
    >>> c = confusion([1, 1, -1, 0, -1], [0.9, 0.2, 0.7, 0.5, 0.1], threshold=0.5)
    >>> c
    Confusion(correct_as_correct=1, correct_as_incorrect=1, incorrect_as_correct=1, incorrect_as_incorrect=1)
    >>> round(c.macro_f1, 3)
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def f1_from_counts(tp: int, fp: int, fn: int) -> float:
    """2·TP / (2·TP + FP + FN); 0 when the class has neither steps nor predictions."""
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else 0.0


@dataclass(frozen=True)
class Confusion:
    """Counts over the correct (1) and incorrect (-1) steps: label × prediction."""

    correct_as_correct: int = 0
    correct_as_incorrect: int = 0
    incorrect_as_correct: int = 0
    incorrect_as_incorrect: int = 0

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(*(a + b for a, b in zip(self.counts(), other.counts())))

    def counts(self) -> tuple[int, int, int, int]:
        return (self.correct_as_correct, self.correct_as_incorrect, self.incorrect_as_correct,
                self.incorrect_as_incorrect)

    @property
    def steps(self) -> int:
        return sum(self.counts())

    @property
    def f1_correct(self) -> float:
        return f1_from_counts(self.correct_as_correct, self.incorrect_as_correct, self.correct_as_incorrect)

    @property
    def f1_incorrect(self) -> float:
        return f1_from_counts(self.incorrect_as_incorrect, self.correct_as_incorrect, self.incorrect_as_correct)

    @property
    def macro_f1(self) -> float:
        return (self.f1_correct + self.f1_incorrect) / 2

    def as_dict(self) -> dict[str, int]:
        return {"correct_as_correct": self.correct_as_correct, "correct_as_incorrect": self.correct_as_incorrect,
                "incorrect_as_correct": self.incorrect_as_correct,
                "incorrect_as_incorrect": self.incorrect_as_incorrect}


def evaluable(labels: Sequence[int], scores: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """The (labels, scores) of the steps that count: labelled ±1 and scored."""
    pairs = [(int(y), float(s)) for y, s in zip(labels, scores, strict=True) if y != 0 and s is not None]
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    y, s = zip(*pairs)
    return np.asarray(y, dtype=np.int64), np.asarray(s, dtype=np.float64)


def confusion(labels: Sequence[int], scores: Sequence[float | None], threshold: float) -> Confusion:
    """The confusion counts at ``threshold`` (predicted correct iff score > threshold)."""
    y, s = evaluable(labels, scores)
    pred = s > threshold
    pos = y == 1
    return Confusion(int(np.sum(pos & pred)), int(np.sum(pos & ~pred)), int(np.sum(~pos & pred)),
                     int(np.sum(~pos & ~pred)))


@dataclass(frozen=True)
class Sweep:
    """F1 at every threshold in ``thresholds`` (ascending), from one sort of the scores."""

    thresholds: np.ndarray
    f1_correct: np.ndarray
    f1_incorrect: np.ndarray

    @property
    def macro_f1(self) -> np.ndarray:
        return (self.f1_correct + self.f1_incorrect) / 2

    def best(self) -> tuple[float, float]:
        """(threshold, macro-F1) of the best threshold; the lowest one on ties."""
        if not len(self.thresholds):
            return float("nan"), float("nan")
        i = int(np.argmax(self.macro_f1))
        return float(self.thresholds[i]), float(self.macro_f1[i])


def sweep(labels: Sequence[int], scores: Sequence[float | None], thresholds: Sequence[float] | np.ndarray) -> Sweep:
    """F1 of both classes at each threshold (vectorised: counts above a threshold by binary search)."""
    y, s = evaluable(labels, scores)
    t = np.asarray(thresholds, dtype=np.float64)
    pos = np.sort(s[y == 1])
    neg = np.sort(s[y == -1])
    cc = len(pos) - np.searchsorted(pos, t, side="right")  # correct steps scored above t
    ic = len(neg) - np.searchsorted(neg, t, side="right")  # incorrect steps scored above t
    ci, ii = len(pos) - cc, len(neg) - ic

    def f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
        denom = 2 * tp + fp + fn
        return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)

    return Sweep(t, f1(cc, ic, ci), f1(ii, ci, ic))


def candidate_thresholds(scores: Sequence[float | None]) -> np.ndarray:
    """Every distinct score, plus one value below the lowest (everything predicted correct)."""
    s = np.unique(np.asarray([x for x in scores if x is not None], dtype=np.float64))
    if not len(s):
        return s
    return np.concatenate([[np.nextafter(s[0], -np.inf)], s])


def best_threshold(labels: Sequence[int], scores: Sequence[float | None]) -> tuple[float, float]:
    """The threshold with the highest macro-F1 over all possible ones, and that macro-F1."""
    y, s = evaluable(labels, scores)
    return sweep(y.tolist(), s.tolist(), candidate_thresholds(s.tolist())).best()


def threshold_grid(scores: Sequence[float | None], points: int = 201) -> np.ndarray:
    """Evenly spaced thresholds for the plot: [0, 1] widened to the scores' range when they leave it."""
    s = [x for x in scores if x is not None]
    lo = min([0.0, *s])
    hi = max([1.0, *s])
    return np.linspace(lo, hi, points)
