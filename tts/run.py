"""``tts.open_run(dir)``: a run directory as pandas DataFrames, for notebooks and ad-hoc analysis.

Example:
    >>> run = open_run("runs/demo")                                   # doctest: +SKIP
    >>> run.rollouts.groupby("problem_id").completion_tokens.mean()   # doctest: +SKIP
    >>> run.scores().merge(run.grades(), on=["problem_id", "sample_idx"])  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
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

    def grades(self, scoring: str | None = "strict") -> pd.DataFrame:
        """Grades of one scoring mode (``None``: all modes)."""
        frame = _frame(Grade, self.dir.read(Grade))
        return frame if scoring is None else frame[frame["scoring"] == scoring].reset_index(drop=True)

    def report(self, **kwargs: Any) -> dict[str, Any]:
        """Recompute the report (selections and grades on disk) and return it."""
        from tts.stages.report import build_report

        return build_report(self.dir, **kwargs)


def open_run(path: str | Path) -> Run:
    """Open an existing run directory for analysis."""
    return Run(path)
