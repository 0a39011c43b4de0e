"""``beam``: search-and-learn's step-level beam search (``src/sal/search/beam_search.py``), batched.

Each iteration proposes N continuations in all, spread over the live beams (M each while N/M beams live;
when fewer live, the best-ranked get the extra ones, so every iteration spends N proposals as
search-and-learn's re-filling of the active list to N does). The critic scores every new partial solution.
A candidate that finished (end of sequence, token cap, or its final answer written) leaves the beam and is
*kept* in the completed pool; of the others, duplicates are dropped when ``filter_duplicates`` (same text,
the first kept) and the best N/M live on. The search ends when no beam is live, after ``max_steps``
iterations (the last writes every beam to the end of its solution), or when the token budget cannot pay
for another iteration.

Final candidates: the completed pool in completion order (``sort_completed``: best aggregated score first),
at most N. search-and-learn pads a short pool with copies; here there are no copies (they would count
twice in a vote). When nothing completed (budget stop) the live beams are the candidates, unfinished.
search-and-learn's ``pred`` (the completed beam of largest aggregated score) is what the ``best_of_n``
strategy picks from them under the same aggregation.

Where this differs from search-and-learn, on purpose: lookahead steps are scored (sal rolls them out in
beam search but scores the beam's text without them, so they cost tokens for nothing); ties and the spread
of extra continuations go by rank, then proposal order (sal: ``np.argsort`` and list order); a final
answer ends a beam as it ends a DVTS subtree; one iteration serves every problem in flight (sal requires
``search_batch_size == 1``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from tts.search.registry import Outcome, SearchAlgorithm
from tts.search.tree import Node, SearchTree
from tts.search.types import Action


def spread(total: int, beams: int) -> list[int]:
    """``total`` continuations over ``beams`` live beams, best first: the first ``total % beams`` get one more.

    >>> spread(8, 2), spread(8, 3)
    ([4, 4], [3, 3, 2])
    """
    return [total // beams + (1 if i < total % beams else 0) for i in range(beams)]


def drop_duplicates(nodes: list[Node]) -> list[Node]:
    """Nodes whose partial solution's text appeared earlier are marked ``duplicate`` and left out."""
    seen: set[str] = set()
    kept = []
    for node in nodes:
        if node.text in seen:
            node.status = "duplicate"
        else:
            seen.add(node.text)
            kept.append(node)
    return kept


def completed_candidates(tree: SearchTree, completed: list[Node], live: list[Node], stopped: str) -> Outcome:
    """The final candidates of beam search and step-greedy: the completed pool (see the module doc)."""
    settings = tree.settings
    pool = tree.ranked(completed) if settings.sort_completed else completed
    for node in pool[settings.n :]:
        node.status = "pruned"
    candidates = pool[: settings.n] if pool else tree.ranked(live)[: settings.n]
    return Outcome(candidates, stopped)


def beam_search(tree: SearchTree) -> Generator[Action, Any, Outcome]:
    s = tree.settings
    keep = s.n // s.beam_width
    live: list[Node] = [tree.root]
    completed: list[Node] = []
    stopped = "max_steps"
    for t in range(s.max_steps):
        last = t == s.max_steps - 1
        groups = yield from tree.expand(list(zip(live, spread(s.n, len(live)))), to_end=last,
                                        lookahead=s.lookahead)
        if groups is None:
            stopped = "budget"
            break
        candidates = [c for g in groups for c in g]
        yield from tree.score(candidates)
        completed += [c for c in candidates if c.done]
        unfinished = [c for c in candidates if not c.done]
        if s.filter_duplicates:
            unfinished = drop_duplicates(unfinished)
        ranked = tree.ranked(unfinished)
        for node in ranked[keep:]:
            node.status = "pruned"
        live = ranked[:keep]
        if not live:
            stopped = "max_steps" if last else "done"
            break
    return completed_candidates(tree, completed, live, stopped)

BEAM = SearchAlgorithm("beam", beam_search,
                       ("beam_width", "aggregation", "lookahead", "filter_duplicates", "sort_completed",
                        "final_answer"))
