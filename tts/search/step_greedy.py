"""``step_greedy``: sample k next steps, keep the best, repeat (k = ``n``).

It is beam search with N = M = k, written out on its own so the two can be checked against each other: one
live path; each iteration proposes k continuations of it and the critic scores them; a continuation that
finished is kept in the completed pool (it does not compete for the live slot, as in beam search); the best
unfinished one (ties: proposed first) becomes the live path. It ends when all k finished, after
``max_steps`` iterations (the last writes to the end), or when the token budget is spent. The final
candidates are the completed pool as for ``beam`` (completion order, or best first with
``sort_completed``; at most k; the live path, unfinished, when nothing completed).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from tts.search.beam import completed_candidates
from tts.search.registry import Outcome, SearchAlgorithm
from tts.search.tree import Node, SearchTree
from tts.search.types import Action


def step_greedy(tree: SearchTree) -> Generator[Action, Any, Outcome]:
    s = tree.settings
    path = tree.root
    completed: list[Node] = []
    for t in range(s.max_steps):
        last = t == s.max_steps - 1
        groups = yield from tree.expand([(path, s.n)], to_end=last, lookahead=s.lookahead)
        if groups is None:
            return completed_candidates(tree, completed, [path], "budget")
        (options,) = groups
        yield from tree.score(options)
        completed += [c for c in options if c.done]
        unfinished = [c for c in options if not c.done]
        if not unfinished:
            return completed_candidates(tree, completed, [], "max_steps" if last else "done")
        path = tree.best(unfinished)
        for node in unfinished:
            if node is not path:
                node.status = "pruned"
    raise AssertionError("unreachable: the last iteration finishes every path")  # pragma: no cover


STEP_GREEDY = SearchAlgorithm("step_greedy", step_greedy,
                              ("aggregation", "lookahead", "sort_completed", "final_answer"))
