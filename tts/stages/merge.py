"""``tts merge``: join the run directories of K shards into one run directory.

The shards must come from the same command (identical config apart from ``shard``) and hold disjoint
problems. The merged directory holds the union of every stage's records (rollouts, every critic's scores,
grades, selections), the images, a manifest recording where it came from, and a fresh report: the same
records an unsharded run would have written.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts.records import Grade, Problem, Record, Rollout, Selection, StepScores
from tts.rundir import ConfigConflict, RunDir, RunDirError, config_differences


def _config_without_shard(run: RunDir) -> dict[str, Any]:
    config = dict(run.manifest.get("config", {}))
    config.pop("shard", None)
    return config


def merge_runs(shards: Sequence[str | Path], out: str | Path) -> RunDir:
    """Merge shard run directories into ``out`` (which must not exist yet, or be empty)."""
    if not shards:
        raise ValueError("nothing to merge: give at least one shard directory")
    runs = [RunDir.open(s, create=False) for s in shards]
    base = _config_without_shard(runs[0])
    for other in runs[1:]:
        diffs = config_differences(base, _config_without_shard(other))
        if diffs:
            raise ConfigConflict(f"{other.path} was not made by the same command as {runs[0].path}:\n  - "
                                 + "\n  - ".join(diffs))
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise RunDirError(f"{out} exists and is not empty; merge into a new directory")
    merged = RunDir.open(out)
    merged.manifest["config"] = base
    merged.manifest["merged_from"] = [str(r.path) for r in runs]
    merged.manifest["models"] = runs[0].manifest.get("models", {})
    for run in runs:
        for stage, entry in run.manifest.get("warnings", {}).items():
            merged.add_warnings(stage, [f"{run.path.name}: {m}" for m in entry.get("examples", [])])
    merged.save()

    seen: set[tuple] = set()
    for run in runs:
        problems = run.read(Problem)
        clash = [p.id for p in problems if p.key() in seen]
        if clash:
            raise RunDirError(f"problem {clash[0]} is in more than one shard ({run.path}); shards must be disjoint")
        seen.update(p.key() for p in problems)
        merged.append(problems)
        _copy_images(run, merged)
        for cls in (Rollout, Grade, Selection):
            _append_all(merged, run.read(cls))
        for critic in run.critics():
            _append_all(merged, run.read(StepScores, critic), critic)
    return merged


def _append_all(run: RunDir, records: list[Record], critic: str | None = None) -> None:
    for i in range(0, len(records), 10_000):
        run.append(records[i : i + 10_000], critic=critic)


def _copy_images(src: RunDir, dst: RunDir) -> None:
    if not src.images_dir.is_dir():
        return
    dst.images_dir.mkdir(parents=True, exist_ok=True)
    for f in src.images_dir.iterdir():
        target = dst.images_dir / f.name
        if f.is_file() and not target.exists():  # content-addressed: same name, same bytes
            shutil.copy2(f, target)
