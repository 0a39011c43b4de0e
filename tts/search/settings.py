"""The settings of a search run, one frozen record for every algorithm (each reads the options it names).

Budgets, in the terms every algorithm shares (Best-of-N included, so they compare at matched compute):

* ``n`` — N: candidates (beam search, DVTS), particles, Best-of-N samples; ``k`` for ``step_greedy``.
* ``beam_width`` — M: continuations per live beam (``beam``), candidates per subtree step (``dvts``).
* ``max_steps`` — iterations; as search-and-learn, the last iteration writes to the end of the solution
  instead of stopping at the step boundary, so every path it reaches is complete.
* ``max_new_tokens`` — policy tokens of one solution (the path's steps), the same cap Best-of-N rollouts
  have, so a searched solution is never longer than a sampled one.
* ``max_step_tokens`` — policy tokens of one step (``None``: only the solution cap); a continuation written
  to the end of the solution (the last iteration, Best-of-N) has only the solution cap.
* ``token_budget`` — policy tokens generated for one problem, every proposal and lookahead roll counted
  (``None``: unlimited). Each policy call gives every continuation at most ``remaining // count`` tokens, so
  the budget is never exceeded; when that share is below one token the search stops (``stopped="budget"``).

Ranking: the score of a partial solution is ``aggregation`` (``last``, ``mean``, ``min``, ``prod``, ``max``:
the registry of :mod:`tts.strategies.scores`) of its step scores; ties go to the candidate proposed first;
an unscored partial solution ranks below every scored one.

Example:
    >>> SearchSettings(n=8, beam_width=2).options("dvts")["beam_width"]
    2
    >>> SearchSettings(n=6, beam_width=4).check("beam")
    Traceback (most recent call last):
    ...
    ValueError: beam: n (6) must be a multiple of beam_width (4)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tts.strategies.scores import check_aggregation

BUDGET_OPTIONS = ("n", "max_steps", "max_new_tokens", "max_step_tokens", "token_budget")
"""Options every algorithm reads."""


@dataclass(frozen=True)
class SearchSettings:
    n: int = 16
    beam_width: int = 4
    aggregation: str = "last"  # search-and-learn's default; the latest step score is its_hub's particle weight
    max_steps: int = 40  # search-and-learn's num_iterations
    max_new_tokens: int = 4096
    max_step_tokens: int | None = None
    token_budget: int | None = None
    lookahead: int = 0  # greedy steps rolled out before scoring (0, as the search-and-learn blog's runs)
    filter_duplicates: bool = False
    sort_completed: bool = False
    final_answer: str | None = r"\\boxed\{"  # a step matching it ends its path (search-and-learn's DVTS rule)
    temperature: float = 1.0  # particle resampling: softmax(weight / temperature)
    particle_weight: Literal["logit", "score"] = "logit"
    resampling: Literal["systematic", "multinomial"] = "systematic"
    stepwise: bool = False  # best_of_n: write each sample step by step (the paths DVTS with M=1 walks)

    def __post_init__(self) -> None:
        positive = {"n": self.n, "beam_width": self.beam_width, "max_steps": self.max_steps,
                    "max_new_tokens": self.max_new_tokens}
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.max_step_tokens is not None and self.max_step_tokens < 1:
            raise ValueError(f"max_step_tokens must be a positive integer or None, got {self.max_step_tokens!r}")
        if self.token_budget is not None and self.token_budget < self.n:
            raise ValueError(f"token_budget ({self.token_budget}) must allow one token per first-step "
                             f"continuation (n = {self.n})")
        if self.lookahead < 0:
            raise ValueError(f"lookahead must be >= 0, got {self.lookahead}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.particle_weight not in ("logit", "score"):
            raise ValueError(f"particle_weight must be 'logit' or 'score', got {self.particle_weight!r}")
        if self.resampling not in ("systematic", "multinomial"):
            raise ValueError(f"resampling must be 'systematic' or 'multinomial', got {self.resampling!r}")
        check_aggregation(self.aggregation)
        if self.final_answer is not None:
            re.compile(self.final_answer)

    def check(self, algorithm: str) -> SearchSettings:
        """``self`` if it is valid for ``algorithm``, else a ``ValueError`` naming the option to change."""
        if algorithm in ("beam", "dvts") and self.n % self.beam_width:
            raise ValueError(f"{algorithm}: n ({self.n}) must be a multiple of beam_width ({self.beam_width})")
        return self

    def options(self, algorithm: str) -> dict[str, Any]:
        """The settings ``algorithm`` reads (what a run records next to its results)."""
        from tts.search.registry import SEARCHES

        names = SEARCHES.get(algorithm).options
        values = asdict(self)
        return {name: values[name] for name in (*BUDGET_OPTIONS, *names)}

    def answered(self, step: str) -> bool:
        """Whether ``step`` writes the final answer (which ends its path)."""
        return self.final_answer is not None and re.search(self.final_answer, step) is not None
