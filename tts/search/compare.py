"""Compare test-time-scaling runs at matched compute: accuracy against generated tokens per problem.

search-and-learn's headline figure, for images: Best-of-N and weighted vote (from one sampled run, every
n ≤ N) beside beam search, DVTS and particle filtering (one run per budget), accuracy with 95% intervals
against the policy tokens each spent per problem, so a user sees which strategy wins at which budget.

What each point is:

* a **sampled run** (``tts bestofn``/``sample``; no search): for n in 1, 2, 4, …, N, the expected accuracy of
  each strategy on a random n-subset of the N samples (:func:`tts.analysis.compute_curves`, ``subsets``
  convention) at the expected tokens of n samples (n/N of the problem's N rollouts' tokens);
* a **search run** (``tts search``): each strategy applied to all of the problem's final candidates (the
  search-and-learn ``pred``: ``best_of_n`` under the run's ranking aggregation; ``weighted_vote`` over the
  candidates, padded copies counted as search-and-learn counts them) at the tokens the search generated for
  the problem (:class:`~tts.search.SearchSummary.policy_tokens`: every proposal, pruned branches and lookahead
  included). Runs of one algorithm at several budgets make one line.

Only problems complete in every run (all N rollouts graded) are compared, so every point averages the same
problems; the others are counted in ``dropped``. Intervals: percentile bootstrap over problems. The critic
tokens (sequence lengths the critic read) are the second x-axis: search spends them at every step.

Output (:func:`compare_runs`): ``{"runs", "problems", "dropped", "warnings", "series"}``, where each series is
``{"label", "kind", "strategy", "aggregation", "runs", "points": [{"run", "n", "policy_tokens",
"critic_tokens", "accuracy", "ci_low", "ci_high", "benchmarks": {bench: {"accuracy", "ci_low", "ci_high"}}}]}``
(accuracy in %, tokens mean per problem).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tts.errors import ConfigError
from tts.rundir import RunDir

DEFAULT_STRATEGIES = ("best_of_n", "weighted_vote")
SAMPLED_AGGREGATION = "mean"  # VisualPRM's Best-of-N
LABELS = {"beam": "beam search", "dvts": "DVTS", "particle_filter": "particle filtering", "step_greedy": "step-greedy",
          "best_of_n": "Best-of-N (searched)"}


@dataclasses.dataclass
class _Run:
    path: Path
    run: RunDir
    kind: str  # search | sampled
    algorithm: str | None
    n: int
    aggregation: str
    critic: str | None
    arrays: Any = None
    policy_tokens: dict[str, float] = dataclasses.field(default_factory=dict)
    critic_tokens: dict[str, float] = dataclasses.field(default_factory=dict)


def _open(path: Path, critic: str | None, aggregation: str | None) -> _Run:
    from tts.labels import pick_critic
    from tts.records import Rollout, StepScores
    from tts.search.store import SearchStore

    run = RunDir.open(path, create=False)
    label = pick_critic(run, critic)
    search = run.config("search")
    n = int((run.config("sampling") or {}).get("n") or 0)
    if search:
        algorithm = search["algorithm"]
        agg = aggregation or search["settings"].get("aggregation", "last")
        item = _Run(Path(path), run, "search", algorithm, n, agg, label)
        for summary in SearchStore(run, algorithm).summaries().values():
            item.policy_tokens[summary.problem_id] = float(summary.policy_tokens)
            item.critic_tokens[summary.problem_id] = float(summary.critic_tokens)
        return item
    item = _Run(Path(path), run, "sampled", None, n, aggregation or SAMPLED_AGGREGATION, label)
    tokens: dict[str, float] = defaultdict(float)
    for r in run.read(Rollout):
        if r.sample_idx < n:
            tokens[r.problem_id] += r.completion_tokens
    critic_tokens: dict[str, float] = defaultdict(float)
    if label:
        for s in run.read(StepScores, label):
            if s.sample_idx < n:
                critic_tokens[s.problem_id] += s.tokens or 0
    item.policy_tokens, item.critic_tokens = dict(tokens), dict(critic_tokens)
    return item


def _complete(arrays: Any) -> set[str]:
    """Problems whose N rollouts are all present and graded."""
    ok = arrays.present.all(axis=1)
    return {pid for pid, good in zip(arrays.problem_ids, ok) if good}


def _subset(arrays: Any, ids: Sequence[str]) -> Any:
    row = {pid: i for i, pid in enumerate(arrays.problem_ids)}
    idx = np.array([row[pid] for pid in ids], dtype=np.int64)
    return dataclasses.replace(
        arrays, problem_ids=tuple(ids), benchmarks=arrays.benchmarks[idx], present=arrays.present[idx],
        correct=arrays.correct[idx], clusters=arrays.clusters[idx], greedy=arrays.greedy[idx],
        scores={k: v[idx] for k, v in arrays.scores.items()},
    )


def budgets(n: int) -> list[int]:
    """Powers of two up to ``n``, and ``n``.

    >>> budgets(6), budgets(8)
    ([1, 2, 4, 6], [1, 2, 4, 8])
    """
    out = [1 << k for k in range(n.bit_length()) if 1 << k <= n]
    return out if out[-1] == n else [*out, n]


def compare_runs(paths: Sequence[str | Path], *, critic: str | None = None, aggregation: str | None = None,
                 strategies: Sequence[str] = DEFAULT_STRATEGIES, rules: str = "strict", draws: int = 1000,
                 resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The comparison of ``paths`` (see the module docstring); reads the runs, writes nothing."""
    from tts.analysis import bootstrap_ci, compute_curves, load_arrays
    from tts.strategies import STRATEGIES

    if len(paths) < 1:
        raise ConfigError("give at least one run directory to compare")
    for s in strategies:
        STRATEGIES.get(s)
    runs = [_open(Path(p), critic, aggregation) for p in paths]
    warnings: list[str] = []
    for r in runs:
        if r.critic is None:
            raise ConfigError(f"{r.path} has no critic scores; score it first (tts score)")
        r.arrays = load_arrays(r.run, critic=r.critic, rules=rules, aggregations=[r.aggregation])
        if r.arrays.coverage.get("graded", 0) == 0:
            raise ConfigError(f"{r.path} has no {rules} grades; grade it first (tts grade {r.path})")
    _identity_warnings(runs, warnings)
    complete = [_complete(r.arrays) & (set(r.policy_tokens) if r.kind == "search" else set(r.arrays.problem_ids))
                for r in runs]
    common = sorted(set.intersection(*complete))
    if not common:
        raise ConfigError("the runs have no problem in common that is complete in every run (all N rollouts graded)")
    dropped = {str(r.path): len(set(r.arrays.problem_ids) - set(common)) for r in runs}
    if any(dropped.values()):
        warnings.append(f"only the {len(common)} problems complete in every run are compared; left out per run: "
                        + ", ".join(f"{Path(k).name} {v}" for k, v in dropped.items() if v))
    series: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in runs:
        arrays = _subset(r.arrays, common)
        curves = compute_curves(arrays, list(strategies), [r.aggregation], draws=draws, seed=seed)
        policy = np.array([r.policy_tokens.get(pid, 0.0) for pid in common])
        critic_tok = np.array([r.critic_tokens.get(pid, 0.0) for pid in common])
        ns = [r.n] if r.kind == "search" else budgets(r.n)
        for strategy in strategies:
            key_agg = None if STRATEGIES.get(strategy).aggregation_free else r.aggregation
            values = curves.values.get((strategy, key_agg))
            if values is None:
                continue
            label = LABELS.get(r.algorithm or "", r.algorithm or "search") if r.kind == "search" else r.path.name
            key = (label, strategy, r.aggregation)
            entry = series.setdefault(key, {"label": label, "kind": r.kind, "strategy": strategy,
                                            "aggregation": r.aggregation, "runs": [], "points": []})
            entry["runs"].append(str(r.path))
            cols = np.stack([values[:, n - 1] for n in ns], axis=1)  # (P, points)
            scale = [1.0] if r.kind == "search" else [n / r.n for n in ns]
            entry["points"] += _points(r, ns, cols, policy, critic_tok, scale, arrays.benchmarks, resamples, seed,
                                       bootstrap_ci)
    out_series = []
    for entry in series.values():
        entry["points"].sort(key=lambda p: p["policy_tokens"])
        out_series.append(entry)
    return {"runs": [{"path": str(r.path), "kind": r.kind, "algorithm": r.algorithm, "n": r.n, "critic": r.critic,
                      "aggregation": r.aggregation,
                      "settings": (r.run.config("search") or {}).get("settings")} for r in runs],
            "problems": len(common), "benchmarks": sorted(set(_subset(runs[0].arrays, common).benchmarks.tolist())),
            "rules": rules, "dropped": dropped, "warnings": warnings, "series": out_series}


def _points(r: _Run, ns: Sequence[int], cols: np.ndarray, policy: np.ndarray, critic_tok: np.ndarray,
            scale: Sequence[float], benchmarks: np.ndarray, resamples: int, seed: int, bootstrap_ci: Any
            ) -> list[dict[str, Any]]:
    low, high = bootstrap_ci(cols, resamples=resamples, seed=seed)
    per_bench: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for bench in sorted(set(benchmarks.tolist())):
        rows = benchmarks == bench
        b_low, b_high = bootstrap_ci(cols[rows], resamples=resamples, seed=seed)
        per_bench[bench] = (cols[rows].mean(axis=0), b_low, b_high)
    points = []
    for j, n in enumerate(ns):
        points.append({
            "run": str(r.path), "n": n, "policy_tokens": round(float(policy.mean() * scale[j]), 2),
            "critic_tokens": round(float(critic_tok.mean() * scale[j]), 2),
            "accuracy": _pct(cols[:, j].mean()), "ci_low": _pct(low[j]), "ci_high": _pct(high[j]),
            "benchmarks": {b: {"accuracy": _pct(m[j]), "ci_low": _pct(lo[j]), "ci_high": _pct(hi[j])}
                           for b, (m, lo, hi) in per_bench.items()},
        })
    return points


def _pct(x: float) -> float | None:
    return None if x != x else round(float(x) * 100.0, 3)


def _identity_warnings(runs: Sequence[_Run], warnings: list[str]) -> None:
    """A comparison is fair only with the same policy and critic models: say so when they differ."""
    for what, key in (("policy", "policy"), ("critic", None)):
        models = set()
        for r in runs:
            if key == "policy":
                models.add((r.run.config("policy") or {}).get("model"))
            else:
                models.add((r.run.config(f"critics.{r.critic}") or {}).get("model"))
        if len(models) > 1:
            warnings.append(f"the runs use different {what} models ({', '.join(sorted(map(str, models)))}): "
                            "the comparison is not at equal models")
