"""``dvts``: search-and-learn's diverse verifier tree search (``src/sal/search/diverse_verifier_tree_search.py``).

N/M independent subtrees, each greedy by the critic: every iteration, each live subtree proposes M next
steps (with ``lookahead`` greedy steps rolled after each before scoring), the critic scores them, and the
best (ties: proposed first) is appended to the subtree's path; the others are pruned. A subtree ends when
its chosen step ends the solution (end of sequence, token cap) or writes the final answer
(``final_answer``, search-and-learn's ``"boxed{"`` rule); the last of ``max_steps`` iterations writes to the
end. All subtrees of all problems in flight share one policy and one critic call per iteration.

Final candidates, subtree by subtree: the subtree's path, then the siblings of its last step that are
themselves complete solutions (flag ``sibling``; scored already, they cost nothing). This fixes
search-and-learn's known bug (issue #57): sal returns the M last-step candidates of every subtree whatever
their state, so a finished subtree hands back unfinished siblings as solutions. With M = 1 a subtree is one
independent chain and DVTS is Best-of-N written step by step (``best_of_n`` with ``stepwise``). A subtree
stopped by the token budget returns its path, unfinished.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from tts.search.registry import Outcome, SearchAlgorithm
from tts.search.tree import Node, SearchTree
from tts.search.types import Action


def dvts(tree: SearchTree) -> Generator[Action, Any, Outcome]:
    s = tree.settings
    subtrees = s.n // s.beam_width
    paths: list[Node] = [tree.root] * subtrees
    siblings: list[list[Node]] = [[] for _ in range(subtrees)]
    stopped = "max_steps"
    for t in range(s.max_steps):
        live = [j for j in range(subtrees) if not paths[j].done]
        if not live:
            stopped = "done"
            break
        last = t == s.max_steps - 1
        groups = yield from tree.expand([(paths[j], s.beam_width) for j in live], to_end=last,
                                        lookahead=s.lookahead)
        if groups is None:
            stopped = "budget"
            break
        yield from tree.score([c for g in groups for c in g])
        for j, options in zip(live, groups):
            best = tree.best(options)
            paths[j] = best
            siblings[j] = [c for c in options if c is not best]
            for node in siblings[j]:
                node.status = "pruned"
    candidates: list[Node] = []
    flags: list[tuple[str, ...]] = []
    for j in range(subtrees):
        candidates.append(paths[j])
        flags.append(())
        if paths[j].done:
            for node in siblings[j]:
                if node.done:
                    node.status = None  # kept: a complete solution
                    candidates.append(node)
                    flags.append(("sibling",))
    return Outcome(candidates, stopped, flags)


DVTS = SearchAlgorithm("dvts", dvts, ("beam_width", "aggregation", "lookahead", "final_answer"))
