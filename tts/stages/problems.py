"""Stage 0: load benchmark problems into the run (images stored under images/)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from tts.images import ImageStore
from tts.records import Problem
from tts.rundir import RunDir


def add_problems(run: RunDir, benchmarks: Sequence[str], *, data_dir: str | Path | None = None, limit: int | None = None,
                 ids: Collection[str] | None = None, strict: bool = False,
                 shard: tuple[int, int] | None = None, progress: bool = False) -> list[Problem]:
    """Load ``benchmarks`` (``NAME[:SPLIT]`` specs), append new problems to the run, return this call's problems.

    ``limit`` applies per benchmark; ``shard=(i, k)`` keeps every k-th problem from index i of the whole
    stable list (see :mod:`tts.shard`). Problems already in the run are not written again; skipped bad rows
    are counted in the manifest's warnings. ``progress`` draws the rows read (a bar on a terminal, plain lines
    in a log): reading a large benchmark takes minutes.
    """
    from tts.benchmarks import load_problems
    from tts.progress import dataset_progress
    from tts.shard import take_shard

    run.bind("problems", {"benchmarks": list(benchmarks)})
    run.bind("shard", {"index": shard[0], "count": shard[1]} if shard else {"index": 0, "count": 1})
    store = ImageStore(run.path)
    loaded_all: list[Problem] = []
    warnings: list[str] = []
    with dataset_progress(enabled=progress) as rows_read:
        for spec in benchmarks:
            loaded = load_problems(spec, store=store, data_dir=data_dir, limit=limit, ids=ids, strict=strict,
                                   progress=rows_read)
            warnings += loaded.warnings
            loaded_all.extend(loaded.problems)
    run.set_warnings("problems", warnings)  # every call reloads every row: replace, never add
    selected = take_shard(loaded_all, *shard) if shard else loaded_all
    have = run.keys(Problem)
    run.append([p for p in selected if p.key() not in have])
    return selected
