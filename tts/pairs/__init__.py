"""MPO preference pairs from a run's graded, critic-scored rollouts, written for TRL or InternVL's trainer.

Methods: ``correctness`` (MMPR's rules), ``prm`` (critic-ranked hard negatives), ``step`` (Step-DPO pairs at
the first step the critic scores low) and ``dropout-ntp`` (the policy continues half a chosen response
without the image). Formats: ``trl`` (a ready DPOTrainer vision dataset) and ``mmpr`` (InternVL's
annotation + ``meta.json`` layout). Facts and sources: ``shared/reference/mpo.md``.

Everything here except ``dropout-ntp`` is pure reading of the run directory: no model, no torch.

Example:
    >>> from tts.pairs import build_pairs, write_pairs
    >>> pairset = build_pairs("runs/demo", "correctness", seed=0)   # doctest: +SKIP
    >>> write_pairs(pairset, "trl", "pairs/demo").files             # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tts.pairs.build import PAIR_METHODS, build_pairs
from tts.pairs.formats import FORMATS, WrittenPairs, load_trl, write_pairs
from tts.pairs.types import Pair, PairReport, PairSet, Side

METHODS: tuple[str, ...] = ("correctness", "prm", "dropout-ntp", "step")


def make_pairs(run_dir: str | Path, *, method: str = "correctness", format: str = "trl", out: str | Path,
               **options: Any) -> tuple[PairSet, WrittenPairs]:
    """Build the pairs of a run with ``method`` and write them in ``format`` under ``out`` (``tts pairs``).

    ``options`` are :func:`build_pairs`'s keyword arguments.
    """
    FORMATS.get(format)  # fail on an unknown format before any work
    pairset = build_pairs(run_dir, method, **options)
    return pairset, write_pairs(pairset, format, out)


__all__ = ["FORMATS", "METHODS", "PAIR_METHODS", "Pair", "PairReport", "PairSet", "Side", "WrittenPairs",
           "build_pairs", "load_trl", "make_pairs", "write_pairs"]
