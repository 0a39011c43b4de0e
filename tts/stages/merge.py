"""``tts merge``: join the run directories of K shards into one run directory.

The shards must come from the same command (identical config apart from ``shard``), hold disjoint
problems and be all K shards of the split (``partial=True`` merges what is there, e.g. to look at results
while the rest still run). The merged directory holds the union of every stage's records (rollouts, every
critic's scores, grades, selections), the images, and a manifest recording where it came from, with the
recipe (so the report compares with the published numbers), warnings and per-stage wall seconds summed
over the shards: the same records an unsharded run would have written.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts.records import Grade, Problem, Record, Rollout, Selection, StepScores
from tts.rundir import WARNING_EXAMPLES, ConfigConflict, RunDir, RunDirError, config_differences


def _config_without_shard(run: RunDir) -> dict[str, Any]:
    config = dict(run.manifest.get("config", {}))
    config.pop("shard", None)
    return config


def check_shard_set(runs: Sequence[RunDir]) -> None:
    """Refuse a set of shards that is not exactly shards 0..K-1 of one K-way split."""
    found = [(r.config("shard") or {"index": 0, "count": 1}) for r in runs]
    counts = {int(f["count"]) for f in found}
    if len(counts) != 1:
        raise RunDirError(f"the shards split the problems differently (K = {sorted(counts)}); merge one split")
    k = counts.pop()
    indices = sorted(int(f["index"]) for f in found)
    twice = sorted({i for i in indices if indices.count(i) > 1})
    missing = sorted(set(range(k)) - set(indices))
    if twice or missing:
        parts = ([f"shard(s) {', '.join(map(str, twice))} given twice"] if twice else []) + \
                ([f"shard(s) {', '.join(f'{i}/{k}' for i in missing)} missing"] if missing else [])
        raise RunDirError(f"not a complete set of {k} shards: {'; '.join(parts)} (--partial merges them anyway)")


def merge_runs(shards: Sequence[str | Path], out: str | Path, *, partial: bool = False) -> RunDir:
    """Merge shard run directories into ``out`` (which must not exist yet, or be empty).

    ``partial=True`` accepts an incomplete set of shards (the merged run then lacks their problems).
    """
    if not shards:
        raise ValueError("nothing to merge: give at least one shard directory")
    runs = [RunDir.open(s, create=False) for s in shards]
    base = _config_without_shard(runs[0])
    for other in runs[1:]:
        diffs = config_differences(base, _config_without_shard(other))
        if diffs:
            raise ConfigConflict(f"{other.path} was not made by the same command as {runs[0].path}:\n  - "
                                 + "\n  - ".join(diffs))
    if not partial:
        check_shard_set(runs)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise RunDirError(f"{out} exists and is not empty; merge into a new directory")
    merged = RunDir.open(out)
    merged.manifest["config"] = base
    merged.manifest["merged_from"] = [str(r.path) for r in runs]
    merged.manifest["models"] = runs[0].manifest.get("models", {})
    if "policy_engine" in runs[0].manifest:  # how the policy was served (tts pairs --method dropout-ntp reuses it)
        merged.manifest["policy_engine"] = runs[0].manifest["policy_engine"]
    recipe = runs[0].manifest.get("recipe")
    if recipe:
        from tts.config import nested

        recipe = nested(recipe)  # a run made before the config records stored flat keys
        merged.manifest["recipe"] = {**recipe, "data": {**(recipe.get("data") or {}), "shard": None}, "out": str(out)}
    warnings: dict[str, dict[str, Any]] = {}
    stages: dict[str, dict[str, Any]] = {}
    for run in runs:
        for stage, entry in run.manifest.get("warnings", {}).items():
            into = warnings.setdefault(stage, {"count": 0, "examples": []})
            into["count"] += int(entry.get("count", 0))
            into["examples"] += [f"{run.path.name}: {m}" for m in entry.get("examples", [])]
        for stage, entry in run.manifest.get("stages", {}).items():
            if "seconds" in entry:
                into = stages.setdefault(stage, {"seconds": 0.0})
                into["seconds"] = round(into["seconds"] + float(entry["seconds"]), 3)
    merged.manifest["warnings"] = {k: {**v, "examples": v["examples"][:WARNING_EXAMPLES]} for k, v in warnings.items()}
    merged.manifest["stages"] = stages
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
