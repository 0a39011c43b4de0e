"""What every pipeline over a run directory shares (``tts bestofn``/``run`` in :mod:`tts.api`, step-level search
in :mod:`tts.search.pipeline`, the stage commands, labels and pairs): the result types, stage timing, the
models' load options, how the policy was served, and the common tail (grade, select, report, pairs).

Why a module of its own: the search pipeline and the stage commands need these, and :mod:`tts.api` needs
the search pipeline; with the helpers in ``tts.api`` the two imported each other.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tts.manifest import POLICY_ENGINE
from tts.model_options import critic_kwargs, engine_kwargs
from tts.records import Problem
from tts.rundir import RunDir

if TYPE_CHECKING:
    from tts.config import RunConfig

T = TypeVar("T")


@dataclass(frozen=True)
class StageIssues:
    """What went wrong in one stage of a pipeline call without stopping it: ``count`` of ``total`` items
    (``what``: "problems failed to sample", "bad dataset rows skipped" …) and the first reasons."""

    stage: str
    what: str
    count: int
    total: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class BestOfNResult:
    run_dir: Path
    report: dict[str, Any]
    issues: tuple[StageIssues, ...] = ()
    """Partial failures of this call (printed by the CLI at the end, before the table)."""


def slug(model: str) -> str:
    """A short, filesystem-safe name for a model id or path (``OpenGVLab/InternVL3-8B`` → ``InternVL3-8B``)."""
    base = Path(model.rstrip("/")).name or model
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base)[:60]


def timed(run: RunDir, stage: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one stage and add its wall time to the manifest (the report's cost section)."""
    start = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        run.add_stage_time(stage, time.perf_counter() - start)


def release_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass


def record_policy_engine(run: RunDir, engine: str, options: Mapping[str, Any]) -> None:
    """Remember how the policy was served (engine and its options, e.g. a server's ``base_url``), so a later
    command that runs the policy again (DropoutNTP pairs) reaches the same model the same way."""
    run.manifest[POLICY_ENGINE] = {"engine": engine, "options": dict(options)}
    run.save()


def problem_issues(run: RunDir) -> StageIssues | None:
    """The dataset rows the problems stage skipped (it reloads every row on each call, so these are this
    call's), as ``tts problems`` reports them."""
    entry = run.manifest.get("warnings", {}).get("problems") or {}
    if not entry.get("count"):
        return None
    return StageIssues("problems", "bad dataset rows skipped", entry["count"], entry["count"],
                       tuple(entry.get("examples") or ()))


def finish_run(run: RunDir, config: RunConfig, problems: Sequence[Problem], critic: str, *,
               progress: bool = True) -> dict[str, Any]:
    """The stages after the candidates and their scores, the same for sampled and searched runs: grade, select
    (the first ``n`` of each problem), report, and the preference pairs the config asks for. Returns the
    report."""
    from tts.stages import build_report, grade_run, select_run

    timed(run, "grade", grade_run, run, problems, progress=progress)
    timed(run, "select", select_run, run, critic, strategies=config.selection.strategies,
          aggregations=config.selection.aggregations, n=config.sampling.n, problems=problems)
    report = build_report(run, critic=critic)
    if config.pairs is not None:
        from tts.pairs import build_pairs, write_pairs

        pairs = config.pairs
        out_dir = pairs.out or run.path / f"pairs-{pairs.method}-{pairs.format}"
        write_pairs(build_pairs(run.path, pairs.method, critic=critic, **pairs.options), pairs.format, out_dir)
    return report


__all__ = ["POLICY_ENGINE", "BestOfNResult", "StageIssues", "critic_kwargs", "engine_kwargs", "finish_run",
           "problem_issues", "record_policy_engine", "release_memory", "slug", "timed"]
