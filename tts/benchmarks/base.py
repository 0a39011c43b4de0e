"""The benchmark interface: turn a dataset split into Problem records with validated, stored images."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tts.errors import TTSError
from tts.images import ImageStore
from tts.records import Problem

#: ``progress(done, total, label)``: called while rows are read; ``total`` is ``None`` when unknown.
Progress = Callable[[int, "int | None", str], None]


@dataclass(frozen=True)
class LoadedProblems:
    """Problems of one split in a stable order, plus one message per skipped row (never skipped silently)."""

    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)


class BenchmarkError(TTSError, RuntimeError):
    """A dataset cannot be loaded, or a bad row was met with ``strict=True``."""


class Benchmark(ABC):
    """One benchmark: its splits, optional subsets (MMMU subjects, MathVerse versions) and image tiling.

    ``max_tiles`` is the per-image dynamic-tiling budget the reference evaluation gives this benchmark
    (VLMEvalKit ``InternVLChat.set_max_num``: 6 by default, 12 for MMMU); ``upscale_first_image`` mirrors
    its MMMU rule of doubling the first image's size before tiling. Engines read both through
    :func:`tts.benchmarks.max_tiles` / :func:`tts.benchmarks.upscale_first_image`.
    """

    name: str = ""
    splits: tuple[str, ...] = ()
    default_split: str = ""
    subsets: tuple[str, ...] = ()
    default_subsets: tuple[str, ...] = ()
    max_tiles: int = 6
    upscale_first_image: bool = False

    @abstractmethod
    def load(self, split: str, *, store: ImageStore, data_dir: Path | None = None, limit: int | None = None,
             ids: Collection[str] | None = None, strict: bool = False) -> LoadedProblems:
        """Load ``split``; images go into ``store`` and Problems reference them."""

    def check_split(self, split: str | None) -> str:
        split = split or self.default_split
        if split not in self.splits:
            raise BenchmarkError(f"{self.name} has no split {split!r}; splits: {', '.join(self.splits)}")
        return split

    def check_subsets(self, subsets: Sequence[str] | None) -> tuple[str, ...]:
        """Canonical subset names for ``subsets`` (case- and ``_``/space-insensitive); ``None`` → defaults."""
        if not subsets:
            return self.default_subsets
        if not self.subsets:
            raise BenchmarkError(f"{self.name} has no subsets; got {', '.join(subsets)}")
        lookup = {_fold(s): s for s in self.subsets}
        out: list[str] = []
        for s in subsets:
            if _fold(s) == "all":
                return self.subsets
            if _fold(s) not in lookup:
                raise BenchmarkError(f"{self.name} has no subset {s!r}; subsets: {', '.join(self.subsets)}")
            if lookup[_fold(s)] not in out:
                out.append(lookup[_fold(s)])
        return tuple(out)


def _fold(name: str) -> str:
    return name.strip().lower().replace("_", " ").replace("-", " ")
