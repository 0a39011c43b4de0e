"""Seeds per (problem, node), so a resumed or sharded search reproduces a clean one exactly.

A node is named by its path of child indices from the root (``"3.0.1"``: child 1 of child 0 of root child
3; the root, the empty partial solution, is ``""``). The seed of child ``c`` of node ``P`` follows vLLM's
child-seed rule, as the sample stage does (:func:`tts.engines.base.sample_seed`)::

    seed(P.c) = sample_seed(base_seed(P), c) = base_seed(P) + c
    base_seed("") = the problem's seed          base_seed(P) = sha256(f"{problem seed}:{P}") (31 bits)

Consequences:

* root child ``i`` is drawn with the seed of sample ``i`` of the sample stage, so ``best_of_n`` reproduces
  ``tts sample``'s rollouts with the same engine, and every algorithm's first step agrees with theirs
  (common random numbers across algorithms);
* the children of one node have consecutive seeds, so an engine can draw them in one
  ``SamplingParams(n, seed=base)`` request;
* a node's seed depends only on the problem seed and its path: not on batching, on the other problems in
  flight, on sharding or on the algorithm (DVTS with beam width 1 and step-by-step Best-of-N walk the
  same paths ``j, j.0, j.0.0, …`` and so draw the same steps).

Example:
    >>> child_seed(100, "", 3), base_seed(100, "")
    (103, 100)
    >>> child_path("", 3), child_path("3", 0)
    ('3', '3.0')
"""

from __future__ import annotations

import hashlib

from tts.engines.base import sample_seed

ROOT = ""


def base_seed(problem_seed: int, path: str) -> int:
    """The seed from which the children of node ``path`` are numbered."""
    if path == ROOT:
        return problem_seed
    digest = hashlib.sha256(f"{problem_seed}:{path}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def child_seed(problem_seed: int, path: str, child: int) -> int:
    """The seed of child ``child`` of node ``path``."""
    return sample_seed(base_seed(problem_seed, path), child)


def child_path(path: str, child: int) -> str:
    return str(child) if path == ROOT else f"{path}.{child}"


def parent_path(path: str) -> str | None:
    """``None`` for the root; ``""`` (the root) for a root child."""
    if path == ROOT:
        return None
    head, _, _ = path.rpartition(".")
    return head


def lookahead_seed(problem_seed: int, path: str, step: int) -> int:
    """Seed of lookahead step ``step`` after node ``path``. Lookahead is greedy, so engines that honour
    temperature 0 ignore it; it is still fixed so a sampling engine stays reproducible."""
    digest = hashlib.sha256(f"{problem_seed}:{path}~{step}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
