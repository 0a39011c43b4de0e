"""Search algorithms registered by name (lazily: an algorithm's module is imported when it is asked for).

An algorithm is a generator function over one problem's :class:`~tts.search.tree.SearchTree`: it yields
:class:`~tts.search.types.Propose` / :class:`~tts.search.types.Score` actions (through the tree's
``expand`` and ``score`` helpers), receives the models' answers, and returns an :class:`Outcome`. The
driver (:mod:`tts.search.driver`) runs one such generator per problem and answers all problems' pending
actions with one model call, which is what batches the search across problems.

Example:
    >>> SEARCHES.names()
    ['beam', 'best_of_n', 'dvts', 'particle_filter', 'step_greedy']
    >>> SEARCHES.get("dvts").options
    ('beam_width', 'aggregation', 'lookahead', 'final_answer')
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tts.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from tts.search.tree import Node, SearchTree
    from tts.search.types import Action

STOP_REASONS = ("done", "max_steps", "budget")
"""Why a search ended: every path finished, the last iteration was reached (its paths written to the end),
or the token budget could not pay for another round."""


@dataclass
class Outcome:
    """What an algorithm returns: its final candidates in sample order, each with provenance flags."""

    candidates: Sequence[Node]
    stopped: str
    flags: Sequence[tuple[str, ...]] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.stopped not in STOP_REASONS:
            raise ValueError(f"stopped must be one of {STOP_REASONS}, got {self.stopped!r}")
        if not self.flags:
            self.flags = [()] * len(self.candidates)


SearchFn = Callable[["SearchTree"], Generator["Action", Any, Outcome]]


@dataclass(frozen=True)
class SearchAlgorithm:
    """A named search: its generator and the settings it reads beyond the budgets."""

    name: str
    search: SearchFn
    options: tuple[str, ...]


SEARCHES: Registry[SearchAlgorithm] = Registry("search algorithm")
SEARCHES.register("beam", "tts.search.beam:BEAM")
SEARCHES.register("step_greedy", "tts.search.step_greedy:STEP_GREEDY")
SEARCHES.register("dvts", "tts.search.dvts:DVTS")
SEARCHES.register("particle_filter", "tts.search.particle:PARTICLE_FILTER")
SEARCHES.register("best_of_n", "tts.search.best_of_n:BEST_OF_N")
