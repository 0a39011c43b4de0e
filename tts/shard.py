"""Deterministic sharding of a run's problems: ``--shard I/K`` takes every K-th problem from index I.

Why round-robin over the stable problem order: each shard gets a similar mix of benchmarks and of easy
and hard questions, and the split depends only on the loaded problem list, so K shards on K GPUs (or Slurm
array tasks) together hold exactly the problems of one unsharded run. Seeds are per problem, so a shard
samples exactly what the unsharded run would; ``tts merge`` then joins the shard directories.

Example:
    >>> parse_shard("1/4")
    (1, 4)
    >>> take_shard(list("abcdefg"), 1, 3)
    ['b', 'e']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from tts.errors import ConfigError

T = TypeVar("T")


def parse_shard(spec: str) -> tuple[int, int]:
    """``"I/K"`` with 0 ≤ I < K (0-based, as Slurm's ``$SLURM_ARRAY_TASK_ID`` with ``--array=0-(K-1)``)."""
    try:
        i_text, k_text = spec.split("/")
        i, k = int(i_text), int(k_text)
    except ValueError:
        raise ConfigError(f"--shard must look like I/K (e.g. 0/4), got {spec!r}") from None
    if k < 1 or not 0 <= i < k:
        raise ConfigError(f"--shard {spec}: need 0 <= I < K")
    return i, k


def take_shard(items: Sequence[T], index: int, count: int) -> list[T]:
    return [item for j, item in enumerate(items) if j % count == index]
