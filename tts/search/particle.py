"""``particle_filter``: its_hub's particle filtering (``its_hub/algorithms/particle_gibbs.py``,
``ParticleFiltering`` = ``ParticleGibbs`` with one iteration and no reference particle), batched.

N particles start at the root. Each iteration every unfinished particle proposes one next step (particles
sitting on the same node ask in one request), the critic scores the new partial solutions, and the whole
population — finished particles included, with the weight they finished with — is resampled to N in
proportion to ``softmax(w / temperature)``, where ``w`` is the partial solution's ranking score (the run's
aggregation of its step scores; ``last``, the default, is the latest step score as in its_hub) mapped by
``particle_weight``: ``logit`` (its_hub: ``log(s / (1 - s))``, ``s`` clipped to [1e-7, 1 - 1e-7]) or
``score`` (``s`` itself). An unscored particle has weight zero unless all are unscored. The search runs
until every particle finished, ``max_steps`` iterations (the last writes to the end) or the token budget.

Resampling: ``systematic`` (default; one uniform draw, N evenly spaced points: each particle gets
``floor`` or ``ceil`` of N times its probability, so a constant critic keeps every particle exactly once)
or ``multinomial`` (N independent draws, as its_hub's ``random.choices``). The draw is seeded per
(problem, iteration), so it does not depend on batching. The final candidates are the last population, in
order, copies included (flag ``copy`` from the second on): the particle approximation counts them.
its_hub's answer (``SelectionMethod.ARGMAX``, the particle of largest final weight) is what the
``best_of_n`` strategy picks from them under the same aggregation (the logit is monotone; ties go to the
first in both), so the search itself selects nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np

from tts.search.registry import Outcome, SearchAlgorithm
from tts.search.tree import Node, SearchTree
from tts.search.types import Action

LOGIT_CLIP = 1e-7


def weights(ranks: Sequence[float | None], how: str, temperature: float) -> np.ndarray:
    """Resampling probabilities of particles whose ranking scores are ``ranks`` (``None``: unscored).

    >>> weights([0.5, 0.5, None], "logit", 1.0).tolist()
    [0.5, 0.5, 0.0]
    >>> weights([0.9, 0.5], "logit", 1.0).round(3).tolist()
    [0.9, 0.1]
    """
    scored = np.array([r is not None for r in ranks])
    if not scored.any():
        return np.full(len(ranks), 1.0 / len(ranks))
    x = np.array([r if r is not None else 0.0 for r in ranks], dtype=np.float64)
    if how == "logit":
        x = np.clip(x, LOGIT_CLIP, 1 - LOGIT_CLIP)
        x = np.log(x / (1 - x))
    x = x / temperature
    x = np.where(scored, x - x[scored].max(), -np.inf)
    p = np.exp(x)
    return p / p.sum()


def resample(p: np.ndarray, rng: np.random.Generator, how: str) -> np.ndarray:
    """N indices drawn in proportion to ``p``, ascending.

    >>> resample(np.full(4, 0.25), np.random.default_rng(0), "systematic").tolist()
    [0, 1, 2, 3]
    """
    n = len(p)
    if how == "multinomial":
        return np.sort(rng.choice(n, size=n, p=p))
    cumulative = np.minimum(np.cumsum(p) * n, n)
    cumulative[-1] = n
    # The offset keeps 2**-33 away from 0 and 1, far beyond the cumsum's rounding, so the cell edges of a
    # uniform population (1, 2, …, N up to ~1e-15) never swallow or split a point.
    offset = (int(rng.integers(0, 2**32)) + 0.5) / 2**32
    return np.searchsorted(cumulative, np.arange(n) + offset, side="right")


def iteration_rng(problem_seed: int, iteration: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{problem_seed}:resample:{iteration}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def particle_filter(tree: SearchTree) -> Generator[Action, Any, Outcome]:
    s = tree.settings
    particles: list[Node] = [tree.root] * s.n
    stopped = "max_steps"
    for t in range(s.max_steps):
        moving = [i for i, node in enumerate(particles) if not node.done]
        end = yield from tree.advance(particles, t)
        if end is not None:
            stopped = end
            break
        yield from tree.score(particles[i] for i in moving)  # the new steps
        p = weights([node.rank for node in particles], s.particle_weight, s.temperature)
        picked = resample(p, iteration_rng(tree.problem.seed, t), s.resampling)
        survivors = {id(particles[i]) for i in picked}
        for node in particles:
            if id(node) not in survivors:
                node.status = "pruned"
        particles = [particles[i] for i in picked]
    seen: set[int] = set()
    flags = []
    for node in particles:
        flags.append(("copy",) if id(node) in seen else ())
        seen.add(id(node))
    return Outcome(particles, stopped, flags)


PARTICLE_FILTER = SearchAlgorithm("particle_filter", particle_filter,
                                  ("aggregation", "temperature", "particle_weight", "resampling", "final_answer"))
