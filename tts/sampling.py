"""How rollouts are drawn: :class:`SamplingParams`, the one home of the Best-of-N sampling defaults.

The defaults are the seeds' Best-of-8 setting (N=8, temperature 0.7, top-p 0.95, 4096 new tokens); the
recipes, ``tts bestofn``, ``tts sample`` and the Python API all read them from here. A light module
(no engine, no torch) so the config and the CLI can import it; :mod:`tts.engines.base` re-exports it.

The record's JSON form (:meth:`SamplingParams.to_json`) is what a run binds under ``config.sampling``: a
resumed run compares it key by key, so a field added here must default to the behaviour runs had without it.

Example:
    >>> SamplingParams().to_json()["temperature"], SamplingParams(n=2).is_greedy(0)
    (0.7, False)
    >>> SamplingParams(n=0)
    Traceback (most recent call last):
    ...
    tts.errors.ConfigError: sampling.n must be >= 1
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tts.errors import ConfigError
from tts.fields import check_fields


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings. Defaults follow the seeds' Best-of-8 setting (T=0.7, top-p 0.95, 4096 tokens)."""

    n: int = 8
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int | None = None
    max_new_tokens: int = 4096
    seed: int = 0
    first_greedy: bool = False
    stop_on_repetition: bool = True  # end a looping rollout early where the engine can (flagged either way)

    def __post_init__(self) -> None:
        check_fields(self, "sampling.")
        if self.n < 1:
            raise ConfigError("sampling.n must be >= 1")
        if self.temperature < 0:
            raise ConfigError("sampling.temperature must be >= 0")
        if not 0 < self.top_p <= 1:
            raise ConfigError("sampling.top_p must be in (0, 1]")
        if self.max_new_tokens < 1:
            raise ConfigError("sampling.max_new_tokens must be >= 1")
        if self.top_k is not None and self.top_k < 0:
            raise ConfigError("sampling.top_k must be >= 0 (0 or None: off)")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def is_greedy(self, sample_idx: int) -> bool:
        return self.temperature == 0 or (self.first_greedy and sample_idx == 0)


DROPOUT_NTP_SAMPLING: dict[str, Any] = {"temperature": 0.7, "top_p": 1.0, "top_k": 50, "max_new_tokens": 2048}
"""InternVL's DropoutNTP continuation sampling (``mmpr_data_pipeline_dropout_ntp.py``; :mod:`tts.pairs.dropout`)."""


__all__ = ["DROPOUT_NTP_SAMPLING", "SamplingParams"]
