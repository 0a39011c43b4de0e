"""Small helpers shared by the stages."""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from tts.records import Problem
from tts.rundir import RunDir

T = TypeVar("T")
U = TypeVar("U")

log = logging.getLogger(__name__)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    size = max(1, size)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def by_problem(records: Iterable[Any]) -> dict[str, list[Any]]:
    """Group records with a ``problem_id`` (rollouts, scores, grades) by problem, sorted by sample index."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in records:
        groups[r.problem_id].append(r)
    for rs in groups.values():
        rs.sort(key=lambda r: r.sample_idx)
    return dict(groups)


def load_images(run: RunDir, problem: Problem) -> tuple[Any, ...]:
    """The problem's images as the reference evaluation feeds them (raises tts.images.BadImage).

    RGB, and for benchmarks where VLMEvalKit's InternVL evaluation upscales the first image (MMMU), that
    image doubled in size with bilinear resampling before tiling.
    """
    from tts.benchmarks import as_evaluated
    from tts.images import load_rgb

    return as_evaluated([load_rgb(run.resolve(ref)) for ref in problem.images], problem.benchmark)


def tiles_for(problem: Problem) -> int:
    """Per-image tiling cap of the reference evaluation for this problem's benchmark and image count."""
    from tts.benchmarks import max_tiles

    return max_tiles(problem.benchmark, len(problem.images))


def select_problems(run: RunDir, problems: Sequence[Problem] | None) -> list[Problem]:
    """The problems a stage works on: those given, else every problem of the run."""
    return list(problems) if problems is not None else run.problems()


def call_isolated(fn: Callable[[list[T]], Sequence[U]], items: list[T], name: Callable[[T], str],
                  warnings: list[str]) -> list[U | None]:
    """``fn(items)``; if it raises, retry item by item so one bad item costs only itself (result ``None``)."""
    if not items:
        return []
    try:
        return list(fn(items))
    except Exception as exc:  # noqa: BLE001 - isolate the failing item below
        if len(items) == 1:
            warnings.append(f"{name(items[0])}: {type(exc).__name__}: {exc}")
            log.warning("%s: %s: %s", name(items[0]), type(exc).__name__, exc)
            return [None]
    out: list[U | None] = []
    for item in items:
        out.extend(call_isolated(fn, [item], name, warnings))
    return out


def after_batch() -> None:
    """Pause after each durable batch when ``TTS_STAGE_BATCH_DELAY`` (seconds) is set.

    Why: lets tests (and users reproducing a crash) kill a stage reliably between batches.
    """
    delay = os.environ.get("TTS_STAGE_BATCH_DELAY")
    if delay:
        time.sleep(float(delay))
