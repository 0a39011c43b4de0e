"""Benchmarks by name (``NAME[:SPLIT]``), loaded from the hub or a local copy into Problem records.

Example:
    >>> import tempfile
    >>> from tts.images import ImageStore
    >>> loaded = load_problems("demo", store=ImageStore(tempfile.mkdtemp()), limit=2)
    >>> [p.id for p in loaded.problems]
    ['demo-1', 'demo-2']
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from tts.benchmarks.base import Benchmark, BenchmarkError, LoadedProblems
from tts.images import ImageStore
from tts.registry import Registry

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")
BENCHMARKS.register("demo", "tts.benchmarks.demo:DemoBenchmark")


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"mathvista:testmini"`` → ``("mathvista", "testmini")``; no split → ``(name, None)``."""
    name, _, split = spec.partition(":")
    return name.strip().lower(), (split.strip() or None)


def load_problems(spec: str, *, store: ImageStore, data_dir: str | Path | None = None, limit: int | None = None,
                  ids: Collection[str] | None = None, strict: bool = False) -> LoadedProblems:
    """Load the problems of ``NAME[:SPLIT]``."""
    name, split = parse_spec(spec)
    bench = BENCHMARKS.get(name)()
    return bench.load(bench.check_split(split), store=store, data_dir=Path(data_dir) if data_dir else None,
                      limit=limit, ids=ids, strict=strict)


__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkError", "LoadedProblems", "load_problems", "parse_spec"]
