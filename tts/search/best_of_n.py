"""``best_of_n``: Best-of-N in the search's budget terms, the baseline every search is compared with.

N samples, one policy call for all of them and one critic call for all of them, with the same budgets
(``max_new_tokens`` per solution, ``token_budget`` per problem split evenly) and the same cost accounting as
the searches. Sample ``i`` is root child ``i``, drawn with seed ``problem seed + i``: the sample stage's rule,
so with the same engine it reproduces ``tts sample``'s rollouts.

``stepwise`` writes each sample step by step instead (one policy call per step, the critic only at the
end): the chains walk the node paths ``i, i.0, i.0.0, …`` that DVTS with beam width 1 walks, and produce the
same solutions; it measures what stepping costs without the search (and checks the search machinery). The
final-answer rule and ``max_steps`` then apply as in the searches.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from tts.search.registry import Outcome, SearchAlgorithm
from tts.search.tree import Node, SearchTree
from tts.search.types import Action


def best_of_n(tree: SearchTree) -> Generator[Action, Any, Outcome]:
    s = tree.settings
    if not s.stepwise:
        groups = yield from tree.expand([(tree.root, s.n)], to_end=True)
        if groups is None:  # pragma: no cover - the settings guarantee one token per sample
            return Outcome([], "budget")
        (samples,) = groups
        yield from tree.score(samples)
        return Outcome(samples, "done")
    chains: list[Node] = [tree.root] * s.n
    stopped = "max_steps"
    for t in range(s.max_steps):
        end = yield from tree.advance(chains, t)
        if end is not None:
            stopped = end
            break
    yield from tree.score(chains)
    return Outcome(chains, stopped)


BEST_OF_N = SearchAlgorithm("best_of_n", best_of_n, ("aggregation", "stepwise", "final_answer"))
