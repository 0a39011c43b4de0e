"""Accuracy as a function of n for every strategy × aggregation, from one run of N samples.

Two conventions:

``subsets`` (default)
    The expected accuracy of a strategy given a uniformly random n-subset of the N samples, for every
    1 ≤ n ≤ N: best-of-n exactly (closed form from score ranks), oracle as the unbiased pass@n, random as
    the mean single-sample accuracy, greedy as a constant, majority and weighted vote exactly where the
    outcome is forced and by Monte Carlo over ``draws`` seeded random permutations elsewhere.
``first_n``
    The strategy applied to the first n samples by index, as search-and-learn computes its curves and as
    papers that rerun per budget report; with ``first_greedy`` runs this includes the greedy sample 0, as
    the reference VisualPRM evaluation does.

Both are defined in :mod:`tts.analysis.reference` (the strategy applied to the first n samples of seeded
permutations, averaged), which the estimators here are tested against. A strategy registered without an
estimator of its own gets exactly that definition: its function is called on the first n samples of
every draw (:func:`tts.analysis.reference.strategy_reference`; about ``P · N · draws`` calls, fewer where
prefixes repeat).

Values are per problem (P × N, fraction correct); :func:`benchmark_means` averages them per benchmark.

Example:
    >>> from tts.analysis.arrays import RunArrays
    >>> a = RunArrays.from_numpy([[1, 0], [0, 0]], [[0, 1], [0, 0]], {"mean": [[0.2, 0.9], [0.5, 0.5]]})
    >>> c = compute_curves(a, ["best_of_n", "oracle"], ["mean"], draws=10)
    >>> c.values[("best_of_n", "mean")].tolist(), c.values[("oracle", None)].tolist()
    ([[0.5, 0.0], [0.0, 0.0]], [[0.5, 1.0], [0.0, 0.0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tts.analysis import exact
from tts.analysis.arrays import RunArrays
from tts.analysis.forked import forked_rows, resolve_workers
from tts.analysis.reference import first_n_draw, strategy_reference
from tts.analysis.votes import vote_curves
from tts.analysis.votes_first_n import vote_first_n_curves
from tts.strategies import AGGREGATIONS, STRATEGIES, check_aggregation

CONVENTIONS = ("subsets", "first_n")
ESTIMATORS = {
    "best_of_n": "exact expectation over n-subsets (closed form from score ranks)",
    "weighted_vote": "exact where forced, else Monte Carlo over random n-subsets",
    "majority": "exact where forced, else Monte Carlo over random n-subsets",
    "greedy": "constant: the greedy rollout",
    "oracle": "unbiased pass@n",
    "random": "expected single-sample accuracy",
}
FALLBACK_ESTIMATOR = "Monte Carlo: the registered function on the first n samples of each random permutation"
DEFAULT_DRAWS = 1000
FALLBACK_PARALLEL_CALLS = 20_000
"""Strategy calls (problems × draws × N) from which the generic fallback deals problems to workers."""


def estimator(strategy: str) -> str:
    """How :func:`compute_curves` estimates a strategy's curve (the generic fallback for any strategy
    registered without an estimator of its own)."""
    return ESTIMATORS.get(strategy, FALLBACK_ESTIMATOR)


@dataclass(frozen=True, eq=False)
class Curves:
    """Per-problem accuracy curves. ``values[(strategy, aggregation)]`` is (P, N); strategies that do not
    read scores (greedy, oracle, random) are stored once under aggregation ``None``."""

    values: dict[tuple[str, str | None], np.ndarray]
    benchmarks: np.ndarray
    convention: str = "subsets"
    draws: int | None = None
    seed: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return next(iter(self.values.values())).shape[1] if self.values else 0

    def get(self, strategy: str, aggregation: str | None) -> np.ndarray | None:
        """The curve of a strategy under an aggregation (aggregation-free strategies ignore it)."""
        if (strategy, aggregation) in self.values:
            return self.values[(strategy, aggregation)]
        return self.values.get((strategy, None))


def permutations(n_samples: int, draws: int, seed: int) -> np.ndarray:
    """``draws`` seeded uniformly random orders of the sample indices (D, N)."""
    rng = np.random.default_rng(seed)
    return rng.permuted(np.tile(np.arange(n_samples, dtype=np.int64), (draws, 1)), axis=1)


def compute_curves(arrays: RunArrays, strategies: Sequence[str] | None = None,
                   aggregations: Sequence[str] | None = None, *, convention: str = "subsets",
                   draws: int = DEFAULT_DRAWS, seed: int = 0, workers: int | None = None,
                   progress: bool = False) -> Curves:
    """Accuracy at every n for each requested strategy (default: all) and aggregation (default: all);
    ``workers`` processes share the vote Monte Carlo (``None``: one per CPU; the numbers do not change)."""
    from tts.progress import progress_bar

    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    if draws < 1:
        raise ValueError("draws must be >= 1")
    strategies = list(strategies) if strategies else STRATEGIES.names()
    aggregations = [check_aggregation(a) for a in (aggregations or AGGREGATIONS)]
    for s in strategies:
        STRATEGIES.get(s)
    first_n = convention == "first_n"
    correct = arrays.correct
    perms = None if first_n else permutations(arrays.n_samples, draws, seed)
    values: dict[tuple[str, str | None], np.ndarray] = {}
    unavailable: dict[str, str] = {}
    jobs: list[tuple[str, str | None]] = [(s, None) for s in strategies if STRATEGIES.get(s).aggregation_free]
    jobs += [(s, a) for s in strategies if not STRATEGIES.get(s).aggregation_free for a in aggregations]
    scored = arrays.scored
    votes: list[tuple[tuple[str, str], tuple[np.ndarray, np.ndarray, str]]] = []
    ranked: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with progress_bar("accuracy curves", total=len(jobs), unit="curves", enabled=progress) as advance:
        for strategy, agg in jobs:
            if strategy not in ESTIMATORS:  # registered without an estimator of its own: call its function
                values[(strategy, agg)] = fallback_curve(arrays, strategy, agg, perms, seed, workers)
            elif strategy == "greedy":
                if (arrays.greedy < 0).all():
                    unavailable["greedy"] = "the run has no greedy rollout (no 'greedy' flag, temperature > 0)"
                else:
                    values[(strategy, None)] = np.nan_to_num(exact.greedy_curve(correct, arrays.greedy))
            elif strategy == "oracle":
                values[(strategy, None)] = exact.oracle_first_n(correct) if first_n else exact.pass_at_n(correct)
            elif strategy == "random":
                values[(strategy, None)] = exact.random_first_n(correct) if first_n else exact.random_subsets(correct)
            else:
                assert agg is not None
                if agg not in ranked:  # every score-reading strategy of an aggregation shares its ranking
                    units = arrays.units(agg)
                    ranked[agg] = (units, exact.best_of_n_order(units, scored, arrays.present))
                units, order = ranked[agg]
                if strategy == "best_of_n":
                    fn = exact.best_of_n_first_n if first_n else exact.best_of_n_subsets
                    values[(strategy, agg)] = fn(correct, order)
                else:
                    votes.append(((strategy, agg), (units, order, strategy)))
                    continue  # computed below, all together
            advance(1)
        if votes:  # every vote job at once: they share the column layouts of the Monte Carlo (see
            # vote_curves), or under first n the samples' order by cluster
            batch = [job for _, job in votes]
            if perms is None:
                got = vote_first_n_curves(batch, arrays.clusters, correct)
            else:
                got = vote_curves(batch, arrays.clusters, correct, perms, workers=workers)
            values.update(zip([key for key, _ in votes], got))
            advance(len(votes))
    values = {key: values[key] for key in jobs if key in values}  # the requested order, votes included
    return Curves(values, arrays.benchmarks, convention, None if first_n else draws, seed, unavailable)


def fallback_curve(arrays: RunArrays, strategy: str, aggregation: str | None, perms: np.ndarray | None, seed: int,
                   workers: int | None) -> np.ndarray:
    """(P, N) curve of a strategy without an estimator of its own: its registered function on the first n
    samples of every draw (``perms``; ``None`` for the first-n convention), problems dealt to worker
    processes when there are many calls to make."""
    draws = first_n_draw(arrays.n_samples) if perms is None else perms
    agg = aggregation or "mean"  # a strategy that reads no scores is called as the selection stage calls it

    def rows(share: np.ndarray) -> list[np.ndarray]:
        return [strategy_reference(arrays, strategy, agg, draws, seed=seed, rows=share)]

    if arrays.n_problems * draws.shape[0] * arrays.n_samples >= FALLBACK_PARALLEL_CALLS:
        got = forked_rows(rows, arrays.n_problems, resolve_workers(workers))
        if got is not None:
            return got[0]
    return rows(np.arange(arrays.n_problems))[0]


def benchmark_means(curves: Curves) -> dict[str, dict[tuple[str, str | None], np.ndarray]]:
    """benchmark → (strategy, aggregation) → (N,) mean accuracy over the benchmark's problems."""
    out: dict[str, dict[tuple[str, str | None], np.ndarray]] = {}
    for bench in sorted(set(curves.benchmarks.tolist())):
        rows = curves.benchmarks == bench
        out[bench] = {key: v[rows].mean(axis=0) for key, v in curves.values.items()}
    return out
