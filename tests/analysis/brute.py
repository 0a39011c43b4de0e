"""Brute force: apply the registered strategy functions to every n-subset (or the first n samples)."""

from __future__ import annotations

import itertools

import numpy as np

from tts.analysis.arrays import RunArrays
from tts.strategies import STRATEGIES, Candidate


def candidates(a: RunArrays, p: int, samples, aggregation: str = "mean") -> list[Candidate]:
    score = a.scores.get(aggregation)
    out = []
    for i in samples:
        if not a.present[p, i]:
            continue
        steps = () if score is None or np.isnan(score[p, i]) else (float(score[p, i]),)
        cluster = None if a.clusters[p, i] < 0 else int(a.clusters[p, i])
        out.append(Candidate(int(i), steps, None, cluster, bool(a.correct[p, i]), bool(a.greedy[p] == i)))
    return out


def accuracy(a: RunArrays, strategy: str, aggregation: str = "mean", *, first_n: bool = False) -> np.ndarray:
    """(P, N) exact accuracy of ``strategy`` by enumeration (aggregation 'mean' scores are single steps)."""
    fn = STRATEGIES.get(strategy)
    p_count, n_count = a.correct.shape
    out = np.zeros((p_count, n_count))
    for p in range(p_count):
        for n in range(1, n_count + 1):
            subsets = [range(n)] if first_n else itertools.combinations(range(n_count), n)
            hits = total = 0
            for sub in subsets:
                cands = candidates(a, p, sub, aggregation)
                if strategy == "random":  # expectation over the uniform pick
                    hits += np.mean([a.correct[p, c.sample_idx] for c in cands]) * len(cands) / len(sub) if cands else 0
                else:
                    pick = fn(cands, aggregation)
                    hits += pick is not None and bool(a.correct[p, pick])
                total += 1
            out[p, n - 1] = hits / total
    return out


def single_step_arrays(rng: np.random.Generator, problems: int, samples: int, *, clusters: int = 3,
                       signed: bool = False, missing: float = 0.1, unscored: float = 0.2,
                       levels: int = 4, consistent: bool = True) -> RunArrays:
    """Random small arrays whose 'mean' score is a single step score on a coarse grid (many ties);
    ``consistent=False`` grades every sample on its own, so members of a cluster may disagree."""
    cl = rng.integers(-1, clusters, (problems, samples))
    right = rng.random((problems, clusters + 1)) < 0.4
    correct = np.where(cl >= 0, right[np.arange(problems)[:, None], cl], False)
    if not consistent:
        correct = (cl >= 0) & (rng.random((problems, samples)) < 0.5)
    present = rng.random((problems, samples)) >= missing
    scores = np.round(rng.random((problems, samples)) * levels) / levels - (0.5 if signed else 0.0)
    scores[rng.random((problems, samples)) < unscored] = np.nan
    greedy = np.where(present[:, 0], 0, -1)
    return RunArrays.from_numpy(correct, cl, {"mean": scores}, present=present, greedy=greedy)
