"""``tts.open_run(dir)``: a run directory as pandas DataFrames, for notebooks and ad-hoc analysis.

Example:
    >>> run = open_run("runs/demo")                                   # doctest: +SKIP
    >>> run.rollouts.groupby("problem_id").completion_tokens.mean()   # doctest: +SKIP
    >>> run.scores().merge(run.grades(), on=["problem_id", "sample_idx"])  # doctest: +SKIP
    >>> run.curve(["best_of_n", "majority"], aggregation="min")          # doctest: +SKIP
    >>> run.pairs("prm").pairs[0]                                        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tts.records import Grade, Problem, Record, Rollout, Selection, StepScores
from tts.rundir import RunDir

if TYPE_CHECKING:
    import pandas as pd


def _frame(cls: type[Record], records: list[Record]) -> pd.DataFrame:
    import pandas as pd

    columns = [f.name for f in dataclasses.fields(cls)]
    return pd.DataFrame([r.to_json() for r in records], columns=columns)


class Run:
    """Read-only view of a run directory; each table is read from disk once."""

    def __init__(self, path: str | Path) -> None:
        self.dir = RunDir.open(path, create=False)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.dir.path

    @property
    def manifest(self) -> dict[str, Any]:
        return self.dir.manifest

    @property
    def critics(self) -> list[str]:
        return self.dir.critics()

    @cached_property
    def problems(self) -> pd.DataFrame:
        return _frame(Problem, self.dir.read(Problem))

    @cached_property
    def rollouts(self) -> pd.DataFrame:
        return _frame(Rollout, self.dir.read(Rollout))

    @cached_property
    def selections(self) -> pd.DataFrame:
        return _frame(Selection, self.dir.read(Selection))

    def scores(self, critic: str | None = None) -> pd.DataFrame:
        """Step scores of one critic (default: every critic, stacked), one row per rollout."""
        import pandas as pd

        critics = [critic] if critic else self.critics
        frames = [_frame(StepScores, self.dir.read(StepScores, c)) for c in critics]
        return pd.concat(frames, ignore_index=True) if frames else _frame(StepScores, [])

    def grades(self, rules: str | None = "strict") -> pd.DataFrame:
        """Grades of one rules mode (``None``: all modes)."""
        frame = _frame(Grade, self.dir.read(Grade))
        return frame if rules is None else frame[frame["rules"] == rules].reset_index(drop=True)

    def curve(self, strategies: str | Sequence[str] = "best_of_n", aggregation: str = "mean", *,
              critic: str | None = None, convention: str = "subsets", draws: int = 1000, seed: int = 0,
              rules: str = "strict", resamples: int = 1000) -> pd.DataFrame:
        """Accuracy (%) vs n for each strategy and benchmark, with 95% bootstrap intervals, from the scores of
        ``critic`` (a label; default: the run's only critic).

        One row per (benchmark, strategy, n): ``accuracy``, ``ci_low``, ``ci_high``. ``convention`` is
        ``subsets`` (expectation over random n-subsets of the N samples) or ``first_n``.
        """
        import pandas as pd

        from tts.analysis import compute_curves, curve_section, load_arrays
        from tts.labels import pick_critic

        names = [strategies] if isinstance(strategies, str) else list(strategies)
        critic = pick_critic(self.dir, critic)  # several critics' scores: name one, never a guess
        arrays = load_arrays(self.dir, critic=critic, rules=rules, aggregations=[aggregation])
        if arrays.n_problems == 0:
            return pd.DataFrame(columns=["benchmark", "strategy", "n", "accuracy", "ci_low", "ci_high"])
        result = compute_curves(arrays, names, [aggregation], convention=convention, draws=draws, seed=seed)
        section = curve_section(result, [aggregation], resamples=resamples, seed=seed)
        rows = []
        for bench, by_strategy in section["curves"].items():
            for strategy, by_agg in by_strategy.items():
                for n, acc in by_agg[aggregation].items():
                    rows.append({"benchmark": bench, "strategy": strategy, "n": int(n), "accuracy": acc,
                                 "ci_low": section["ci_low"][bench][strategy][aggregation][n],
                                 "ci_high": section["ci_high"][bench][strategy][aggregation][n]})
        return pd.DataFrame(rows)

    def pairs(self, method: str = "correctness", **options: Any) -> Any:
        """MPO preference pairs from this run (:func:`tts.pairs.build_pairs`); write them with
        :func:`tts.pairs.write_pairs`."""
        from tts.pairs import build_pairs

        return build_pairs(self.path, method, **options)

    def report(self, **kwargs: Any) -> dict[str, Any]:
        """Recompute the report (selections and grades on disk) and return it."""
        from tts.stages.report import build_report

        return build_report(self.dir, **kwargs)


def open_run(path: str | Path) -> Run:
    """Open an existing run directory for analysis."""
    return Run(path)
