"""The ``search`` section of a run config: which algorithm, and its options beyond the shared budgets.

A recipe with a ``search`` section runs a step-level search instead of Best-of-N sampling (``tts run``,
``tts search``). The budgets every algorithm shares with Best-of-N come from the ``sampling`` record, so a
search recipe and a Best-of-N recipe with the same ``sampling`` spend comparable compute:
``sampling.n`` is N (candidates, particles, samples), ``sampling.max_new_tokens`` caps one solution, and
``sampling.temperature``/``top_p``/``top_k``/``seed``/``stop_on_repetition`` draw every step. Everything
else is an option of :class:`tts.search.SearchSettings` (the one home of their defaults), given beside
``algorithm``:

.. code-block:: yaml

    search: {algorithm: beam, beam_width: 4, aggregation: last, max_steps: 40}

Example:
    >>> cfg = SearchConfig.from_mapping({"algorithm": "dvts", "beam_width": 2})
    >>> cfg.settings(n=8, max_new_tokens=512).options("dvts")["beam_width"]
    2
    >>> SearchConfig.from_mapping({"algorithm": "beam", "beam_widht": 2})
    Traceback (most recent call last):
    ...
    tts.errors.ConfigError: unknown key search.beam_widht (did you mean search.beam_width?); known keys of search: algorithm, beam_width, aggregation, max_steps, max_step_tokens, token_budget, lookahead, filter_duplicates, sort_completed, final_answer, temperature, particle_weight, resampling, stepwise
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tts.errors import ConfigError
from tts.search.settings import SearchSettings

SHARED_WITH_SAMPLING = ("n", "max_new_tokens")
"""SearchSettings fields that come from the ``sampling`` record."""


def option_names() -> list[str]:
    return [f.name for f in dataclasses.fields(SearchSettings) if f.name not in SHARED_WITH_SAMPLING]


@dataclass(frozen=True)
class SearchConfig:
    """A step-level search: ``algorithm`` (a name of :data:`tts.search.SEARCHES`) and its ``options``."""

    algorithm: str = "beam"
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from tts.search.registry import SEARCHES

        if self.algorithm not in SEARCHES.names():
            close = difflib.get_close_matches(self.algorithm, SEARCHES.names(), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"unknown search.algorithm {self.algorithm!r}{hint}; known: {', '.join(SEARCHES.names())}")
        known = option_names()
        for key in self.options:
            if key in SHARED_WITH_SAMPLING:
                raise ConfigError(f"search.{key} is set by sampling.{key} (the budget every algorithm shares with "
                                  "Best-of-N); remove it from search")
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean search.{close[0]}?)" if close else ""
                raise ConfigError(f"unknown key search.{key}{hint}; known keys of search: "
                                  f"{', '.join(['algorithm', *known])}")
        object.__setattr__(self, "options", dict(self.options))
        self.settings(n=1, max_new_tokens=1)  # the options' own values are checked here; budgets at run time

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SearchConfig:
        if not isinstance(data, Mapping):
            raise ConfigError(f"search must be a mapping of keys to values, got {data!r}")
        options = {**dict(data.get("options") or {}), **{k: v for k, v in data.items() if k not in ("algorithm", "options")}}
        return cls(str(data.get("algorithm", "beam")), options)

    def settings(self, *, n: int, max_new_tokens: int) -> SearchSettings:
        """The algorithm's settings with the shared budgets (``ConfigError`` naming what to change)."""
        try:
            return SearchSettings(n=n, max_new_tokens=max_new_tokens, **self.options)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"search: {exc}") from None

    def checked(self, *, n: int, max_new_tokens: int) -> SearchSettings:
        settings = self.settings(n=n, max_new_tokens=max_new_tokens)
        try:
            return settings.check(self.algorithm)
        except ValueError as exc:
            raise ConfigError(f"search: {exc} (sampling.n is N)") from None

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, **self.options}
