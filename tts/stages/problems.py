"""Stage 0: load benchmark problems into the run (images stored under images/)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from tts.images import ImageStore
from tts.records import Problem
from tts.rundir import RunDir


def add_problems(run: RunDir, benchmarks: Sequence[str], *, data_dir: str | Path | None = None, limit: int | None = None,
                 ids: Collection[str] | None = None, strict: bool = False) -> list[Problem]:
    """Load ``benchmarks`` (``NAME[:SPLIT]`` specs), append new problems to the run, return this call's problems.

    ``limit`` applies per benchmark. Problems already in the run are not written again; skipped bad rows
    are counted in the manifest's warnings.
    """
    from tts.benchmarks import load_problems

    run.bind("problems", {"benchmarks": list(benchmarks)})
    store = ImageStore(run.path)
    have = run.keys(Problem)
    selected: list[Problem] = []
    for spec in benchmarks:
        loaded = load_problems(spec, store=store, data_dir=data_dir, limit=limit, ids=ids, strict=strict)
        run.add_warnings("problems", loaded.warnings)
        new = [p for p in loaded.problems if p.key() not in have]
        run.append(new)
        have.update(p.key() for p in new)
        selected.extend(loaded.problems)
    return selected
