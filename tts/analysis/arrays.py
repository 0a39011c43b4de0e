"""A run as dense arrays (problems × N samples): the one input of every offline estimator.

Generation is expensive, questions about it are cheap: load a run once into :class:`RunArrays` and every
curve, strategy and aggregation is numpy over these arrays. Conventions (``P`` problems, ``N`` samples,
``N`` = the run's sampling ``n``, or the largest sample index + 1 if larger):

- ``present[p, i]``: rollout ``i`` of problem ``p`` exists. A missing rollout of a sampled problem counts
  as a failed sample: wrong, unscored, no answer, and ranked below everything. Problems without any
  rollout (not sampled yet, or failed as a whole) are left out, as the selection table leaves them out,
  and counted in :attr:`RunArrays.coverage`.
- ``correct[p, i]``: graded correct under ``rules``; ungraded counts as wrong (and is counted in
  :attr:`RunArrays.coverage`).
- ``clusters[p, i]``: answer cluster id by the grader's equivalence (from the *strict* grades' extracted
  answers), numbered by first appearance in sample order; ``-1`` for no parsed answer.
- ``scores[agg][p, i]``: aggregated critic score, NaN for unscored or missing.
- ``greedy[p]``: sample index of the greedy rollout (flag ``greedy``, else sample 0 when the run sampled
  it greedily: ``temperature == 0`` or ``first_greedy``), ``-1`` when there is none.

Example:
    >>> import numpy as np
    >>> a = RunArrays.from_numpy(correct=[[1, 0, 1]], clusters=[[0, 1, 0]], scores={"mean": [[0.9, 0.5, np.nan]]})
    >>> a.n_problems, a.n_samples, a.units("mean").tolist() == [[int(0.9 * 2**32), 2**31, 0]]
    (1, 3, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tts.records import Grade, Problem, Rollout, StepScores
from tts.strategies.scores import AGGREGATIONS, aggregate_many, score_units

ClusterFn = Callable[[Sequence["str | None"], Problem], "list[int | None]"]


@dataclass(frozen=True, eq=False)
class RunArrays:
    """Dense per-problem arrays of one run (see the module docstring for every convention)."""

    problem_ids: tuple[str, ...]
    benchmarks: np.ndarray  # (P,) str
    present: np.ndarray  # (P, N) bool
    correct: np.ndarray  # (P, N) bool
    clusters: np.ndarray  # (P, N) int32, -1 = no parsed answer
    greedy: np.ndarray  # (P,) int64, -1 = no greedy rollout
    scores: Mapping[str, np.ndarray]  # agg -> (P, N) float64, NaN = unscored / missing
    critic: str | None = None
    rules: str = "strict"
    coverage: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_problems(self) -> int:
        return int(self.correct.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.correct.shape[1])

    @property
    def aggregations(self) -> list[str]:
        return list(self.scores)

    @property
    def scored(self) -> np.ndarray:
        """(P, N) bool: the rollout has a critic score."""
        if not self.scores:
            return np.zeros_like(self.present)
        return ~np.isnan(next(iter(self.scores.values())))

    def units(self, aggregation: str) -> np.ndarray:
        """Aggregated scores on the comparison grid (int64; 0 for unscored/missing)."""
        if aggregation not in self.scores:
            if aggregation not in AGGREGATIONS:
                raise KeyError(f"unknown aggregation {aggregation!r}; known: {', '.join(AGGREGATIONS)}")
            return np.zeros(self.correct.shape, dtype=np.int64)  # no critic: everything unscored
        return score_units(self.scores[aggregation])

    def benchmark_rows(self) -> dict[str, np.ndarray]:
        """Benchmark name → row indices of its problems (names sorted)."""
        return {b: np.nonzero(self.benchmarks == b)[0] for b in sorted(set(self.benchmarks.tolist()))}

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_numpy(cls, correct: Any, clusters: Any | None = None, scores: Mapping[str, Any] | None = None, *,
                   present: Any | None = None, greedy: Any | None = None, benchmarks: Sequence[str] | None = None,
                   problem_ids: Sequence[str] | None = None, critic: str | None = None) -> RunArrays:
        """Build from plain arrays (tests, benchmarks, notebooks). Missing parts default to: all present,
        no clusters, no scores, no greedy rollout, benchmark ``"all"``."""
        correct = np.asarray(correct, dtype=bool)
        p, n = correct.shape
        present_arr = np.ones((p, n), bool) if present is None else np.asarray(present, dtype=bool)
        clusters_arr = np.full((p, n), -1, np.int32) if clusters is None else np.asarray(clusters, dtype=np.int32)
        score_arrs = {k: np.asarray(v, dtype=np.float64) for k, v in (scores or {}).items()}
        for arr in (present_arr, clusters_arr, *score_arrs.values()):
            if arr.shape != (p, n):
                raise ValueError(f"array of shape {arr.shape} does not match correct {(p, n)}")
        return cls(
            problem_ids=tuple(problem_ids) if problem_ids is not None else tuple(f"p{i}" for i in range(p)),
            benchmarks=np.asarray(benchmarks if benchmarks is not None else ["all"] * p, dtype=str),
            present=present_arr, correct=correct & present_arr,
            clusters=np.where(present_arr, clusters_arr, -1).astype(np.int32),
            greedy=np.full(p, -1, np.int64) if greedy is None else np.asarray(greedy, dtype=np.int64),
            scores={k: np.where(present_arr, v, np.nan) for k, v in score_arrs.items()}, critic=critic,
        )

    @classmethod
    def from_records(cls, problems: Sequence[Problem], rollouts: Iterable[Rollout], grades: Iterable[Grade],
                     step_scores: Iterable[StepScores] = (), *, rules: str = "strict",
                     sampling: Mapping[str, Any] | None = None, critic: str | None = None,
                     aggregations: Sequence[str] = tuple(AGGREGATIONS), cluster: ClusterFn | None = None,
                     progress: bool = False) -> RunArrays:
        """Assemble the arrays from records. ``cluster`` defaults to the grader's equivalence
        (:func:`tts.strategies.cluster_ids`); it is called once per problem with all N extracted answers."""
        from tts.progress import progress_bar
        from tts.strategies.candidates import cluster_ids

        cluster = cluster or cluster_ids
        sampling = dict(sampling or {})
        rollouts = list(rollouts)
        sampled = {r.problem_id for r in rollouts}
        skipped = sum(p.id not in sampled for p in problems)
        problems = [p for p in problems if p.id in sampled]  # not sampled (yet) or failed as a whole
        row = {p.id: i for i, p in enumerate(problems)}
        rollouts = [r for r in rollouts if r.problem_id in row]
        n = max([int(sampling.get("n") or 0)] + [r.sample_idx + 1 for r in rollouts] + [1])
        shape = (len(problems), n)
        present = np.zeros(shape, bool)
        flagged = np.zeros(shape, bool)
        for r in rollouts:
            present[row[r.problem_id], r.sample_idx] = True
            flagged[row[r.problem_id], r.sample_idx] = "greedy" in r.flags

        correct = np.zeros(shape, bool)
        graded = np.zeros(shape, bool)
        answers: list[list[str | None]] = [[None] * n for _ in problems]
        for g in grades:
            i = row.get(g.problem_id)
            if i is None or g.sample_idx >= n or not present[i, g.sample_idx]:
                continue
            if g.rules == rules:
                correct[i, g.sample_idx] = g.correct
                graded[i, g.sample_idx] = True
            if g.rules == "strict":
                answers[i][g.sample_idx] = g.extracted

        clusters = np.full(shape, -1, np.int32)
        with progress_bar("clustering answers", total=len(problems), unit="problems", enabled=progress) as advance:
            for i, p in enumerate(problems):
                if any(a is not None for a in answers[i]):
                    ids = cluster(answers[i], p)
                    clusters[i] = [-1 if c is None else c for c in ids]
                advance(1)
        clusters = _first_appearance(clusters)

        lengths = np.zeros(shape[0] * n, np.int64)
        chunks: dict[int, tuple[float, ...]] = {}
        for s in step_scores:
            critic = critic or s.critic
            i = row.get(s.problem_id)
            if i is not None and s.sample_idx < n and present[i, s.sample_idx]:
                chunks[i * n + s.sample_idx] = s.scores
                lengths[i * n + s.sample_idx] = len(s.scores)
        values = np.fromiter((v for k in sorted(chunks) for v in chunks[k]), dtype=np.float64, count=int(lengths.sum()))
        scores = {agg: aggregate_many(values, lengths, agg).reshape(shape) for agg in aggregations} if critic else {}

        greedy = np.where(flagged.any(axis=1), flagged.argmax(axis=1), -1)
        if not flagged.any() and (sampling.get("temperature") == 0 or sampling.get("first_greedy")):
            greedy = np.where(present[:, 0], 0, -1)
        hetero = _heterogeneous_clusters(clusters, correct)
        coverage = {
            "problems": shape[0], "problems_without_rollouts": skipped, "samples": n,
            "rollouts": int(present.sum()), "missing": int((~present).sum()),
            "graded": int(graded.sum()), "ungraded": int((present & ~graded).sum()),
            "scored": int((lengths > 0).sum()) if critic else 0,
            "parsed": int((clusters >= 0).sum()), "heterogeneous_clusters": hetero,
        }
        return cls(tuple(p.id for p in problems), np.asarray([p.benchmark for p in problems], dtype=str), present,
                   correct & present, clusters, greedy.astype(np.int64), scores, critic, rules, coverage)


def _first_appearance(clusters: np.ndarray) -> np.ndarray:
    """Renumber each row's cluster ids by first appearance (vectorised; -1 stays -1)."""
    p, n = clusters.shape
    out = np.full_like(clusters, -1)
    valid = clusters >= 0
    if not valid.any():
        return out
    width = int(clusters.max()) + 1
    flat = np.where(valid, np.arange(p)[:, None] * width + clusters, -1)
    first = np.full(p * width, n, np.int64)
    rows, cols = np.nonzero(valid)
    np.minimum.at(first, flat[rows, cols], cols)
    # rank of each (row, cluster) by its first position within the row
    firsts = first.reshape(p, width)
    order = np.argsort(firsts, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(width)[None, :].repeat(p, 0), axis=1)
    out[rows, cols] = rank[rows, clusters[rows, cols]]
    return out


def _heterogeneous_clusters(clusters: np.ndarray, correct: np.ndarray) -> int:
    """Clusters whose members the grader graded differently (an inconsistent equivalence)."""
    valid = clusters >= 0
    if not valid.any():
        return 0
    width = int(clusters.max()) + 1
    key = (np.arange(clusters.shape[0])[:, None] * width + clusters)[valid]
    n_right = np.bincount(key, weights=correct[valid], minlength=clusters.shape[0] * width)
    n_all = np.bincount(key, minlength=clusters.shape[0] * width)
    return int(((n_right > 0) & (n_right < n_all)).sum())


def load_arrays(run: Any, *, critic: str | None = None, rules: str = "strict",
                aggregations: Sequence[str] = tuple(AGGREGATIONS), cluster: ClusterFn | None = None,
                progress: bool = False) -> RunArrays:
    """Read a run directory into :class:`RunArrays` (``critic`` defaults to the run's only critic)."""
    from tts.records import Grade, Problem, Rollout, StepScores

    critic = critic if critic is not None else default_critic(run)
    if critic is not None and critic not in run.critics():
        raise KeyError(f"{run.path} has no scores from critic {critic!r}; it has: {', '.join(run.critics()) or 'none'}")
    return RunArrays.from_records(
        run.read(Problem), run.read(Rollout), run.read(Grade), run.read(StepScores, critic) if critic else (),
        rules=rules, sampling=run.config("sampling"), critic=critic, aggregations=aggregations,
        cluster=cluster, progress=progress,
    )


def default_critic(run: Any) -> str | None:
    """The critic label to analyse when none is given: the run's first (alphabetically), or ``None``."""
    critics = run.critics()
    return critics[0] if critics else None
