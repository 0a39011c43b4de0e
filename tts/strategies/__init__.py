"""Selection strategies over stored rollouts, step scores and extracted answers, registered by name.

``STRATEGIES.get(name)(candidates, aggregation)`` returns the chosen sample index (or ``None``). The rules,
ties and unscored rollouts included, are documented in :mod:`tts.strategies.rules`; aggregations and the
score grid in :mod:`tts.strategies.scores`. Accuracy as a function of n, for every strategy at once, is
:mod:`tts.analysis`.

Example:
    >>> from tts.strategies import STRATEGIES, Candidate
    >>> cands = [Candidate(0, (0.3, 0.95), "2", 0), Candidate(1, (0.6, 0.6), "3", 1)]
    >>> STRATEGIES.get("best_of_n")(cands, "mean"), STRATEGIES.get("best_of_n")(cands, "min")
    (0, 1)
    >>> STRATEGIES.names()
    ['best_of_n', 'greedy', 'majority', 'oracle', 'random', 'weighted_vote']
"""

from tts.strategies.candidates import Candidate, canonical_clusters, cluster_ids, with_clusters
from tts.strategies.rules import STRATEGIES, Strategy, rank_key
from tts.strategies.scores import (
    AGGREGATIONS,
    SCORE_LIMIT,
    SCORE_UNIT_BITS,
    aggregate,
    aggregate_many,
    check_aggregation,
    score_units,
)

__all__ = [
    "AGGREGATIONS",
    "SCORE_LIMIT",
    "SCORE_UNIT_BITS",
    "STRATEGIES",
    "Candidate",
    "Strategy",
    "aggregate",
    "aggregate_many",
    "canonical_clusters",
    "check_aggregation",
    "cluster_ids",
    "rank_key",
    "score_units",
    "with_clusters",
]
