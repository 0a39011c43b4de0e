"""The benchmark interface: turn a dataset split into Problem records with validated, stored images."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from tts.images import ImageStore
from tts.records import Problem


@dataclass(frozen=True)
class LoadedProblems:
    """Problems of one split in a stable order, plus one message per skipped row (never skipped silently)."""

    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)


class BenchmarkError(RuntimeError):
    """A dataset cannot be loaded, or a bad row was met with ``strict=True``."""


class Benchmark(ABC):
    name: str = ""
    splits: tuple[str, ...] = ()
    default_split: str = ""

    @abstractmethod
    def load(self, split: str, *, store: ImageStore, data_dir: Path | None = None, limit: int | None = None,
             ids: Collection[str] | None = None, strict: bool = False) -> LoadedProblems:
        """Load ``split``; images go into ``store`` and Problems reference them."""

    def check_split(self, split: str | None) -> str:
        split = split or self.default_split
        if split not in self.splits:
            raise BenchmarkError(f"{self.name} has no split {split!r}; splits: {', '.join(self.splits)}")
        return split
