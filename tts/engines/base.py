"""The engine interface: N rollouts per problem in one request, whatever serves the model.

An engine receives a batch of :class:`GenerationRequest` (one per problem: the prompt text with
``<image>`` placeholders, the decoded images and a per-problem seed) and returns, for each request, the
``params.n`` completions in sample order. Engines always produce all N samples of a problem: a resumed run
regenerates a partially written problem from its seed and keeps only the missing samples, which is what
makes a resumed run identical to a clean one.

Seeds: sample ``i`` of a problem is drawn with :func:`sample_seed` ``(problem seed, i)`` wherever the
engine allows it (transformers: exactly; vLLM: ``SamplingParams(n, seed)`` gives child ``i`` the seed
``seed + i``, which is the same rule; OpenAI-compatible servers: passed through, honoured by vLLM servers).
So a problem's rollouts do not depend on batching, sharding, or N (the first 4 of N=8 are the N=4 run).

Streaming: :meth:`Engine.stream` yields each problem's completions as soon as the engine has them, so the
sample stage writes them to disk before the next problem finishes; a failing problem yields an error (and
whatever samples did complete) instead of taking the batch down.

Continuations (step-level search, Monte Carlo step labels, DropoutNTP): a request may carry its own ``n``,
``max_new_tokens``, ``greedy`` and ``stop`` strings, overriding the call's :class:`SamplingParams` for that
request only (:func:`request_params`), so one engine call can continue many partial solutions with different
budgets. ``assistant_prefix`` is the partial reply the model continues; completions hold only the new text.
When a stop string fires, generation ends there, the stop string is left out of the text (vLLM's
``include_stop_str_in_output=False``) and the finish reason is ``step``, distinct from ``stop`` (end of
sequence) and ``length`` (token cap, or a loop cut by the repetition stopper: never ``step``). Tokens count
everything generated, the stop string's tokens included. Engines that can keep a problem's image encoding
between calls do so inside :meth:`Engine.image_cache` (until :meth:`Engine.release_images` or the end of
the block).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tts.sampling import SamplingParams as SamplingParams  # re-exported: defined in the light tts.sampling

log = logging.getLogger(__name__)


def problem_seed(run_seed: int, problem_id: str) -> int:
    """A 31-bit seed per (run seed, problem): independent of batching, order and sharding."""
    digest = hashlib.sha256(f"{run_seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def sample_seed(seed: int, sample_idx: int) -> int:
    """The seed of sample ``sample_idx`` of a problem whose seed is ``seed`` (vLLM's child-seed rule).

    >>> sample_seed(100, 0), sample_seed(100, 3)
    (100, 103)
    """
    return seed + sample_idx


@dataclass(frozen=True)
class GenerationRequest:
    """One problem to sample: prompt text with ``<image>`` placeholders, its images and its seed.

    ``assistant_prefix`` pre-fills the start of the assistant reply, which the model then continues
    (DropoutNTP continues a truncated response this way); completions hold only the continuation.

    Per-request overrides of the call's :class:`SamplingParams` (``None``/empty: the call's): ``n`` samples,
    ``max_new_tokens``, ``greedy`` (temperature 0 for every sample) and ``stop`` strings (generation ends
    where one appears in the new text; finish reason ``step``). See :func:`request_params`.
    """

    problem_id: str
    prompt: str
    images: tuple[Any, ...] = ()  # PIL images, in placeholder order
    seed: int = 0
    assistant_prefix: str = ""
    max_tiles: int | None = None  # per-benchmark tiling cap (None: the checkpoint's default)
    n: int | None = None
    max_new_tokens: int | None = None
    greedy: bool = False
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(self.stop))
        if self.n is not None and self.n < 1:
            raise ValueError(f"{self.problem_id}: n must be >= 1, got {self.n}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"{self.problem_id}: max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ValueError(f"{self.problem_id}: stop strings must be non-empty strings, got {self.stop!r}")


def request_params(request: GenerationRequest, params: SamplingParams) -> SamplingParams:
    """The sampling settings one request is served with: ``params`` with the request's overrides.

    >>> request_params(GenerationRequest("p", "Q", n=2, max_new_tokens=5, greedy=True), SamplingParams(n=8))
    SamplingParams(n=2, temperature=0.0, top_p=0.95, top_k=None, max_new_tokens=5, seed=0, first_greedy=False, stop_on_repetition=True)
    """
    changes: dict[str, Any] = {}
    if request.n is not None:
        changes["n"] = request.n
    if request.max_new_tokens is not None:
        changes["max_new_tokens"] = request.max_new_tokens
    if request.greedy:
        changes.update(temperature=0.0, first_greedy=False)
    return replace(params, **changes) if changes else params


FINISH_STEP = "step"
"""Finish reason of a completion ended by one of its request's ``stop`` strings."""


@dataclass(frozen=True)
class Completion:
    sample_idx: int
    text: str
    finish_reason: str  # stop (end of sequence) | step (a stop string) | length | error
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    flags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ProblemOutput:
    """What :meth:`Engine.stream` yields for one request: its completions (possibly only some samples,
    when part of the work failed) and, if anything failed, why."""

    index: int  # position of the request in the list given to stream()
    completions: tuple[Completion, ...]
    error: str | None = None


class Engine(ABC):
    """A policy model behind one batch-in, batch-out call."""

    name: str = ""
    preferred_batch_size: int = 4  # problems per engine call when the caller does not say

    def __init__(self, model: str) -> None:
        self.model_id = model

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        """For each request, ``request_params(request, params).n`` completions ordered by sample index."""

    def stream(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> Iterator[ProblemOutput]:
        """Yield one :class:`ProblemOutput` per request as soon as it is done (any order).

        The default runs :meth:`generate` on the whole batch; if that raises, it retries request by request
        so one bad problem costs only itself. Engines that finish problems at different times override it.
        """
        requests = list(requests)
        if not requests:
            return
        try:
            results = self.generate(requests, params)
        except Exception as exc:  # noqa: BLE001 - isolate the failing request below
            if len(requests) == 1:
                log.warning("%s: %s: %s", requests[0].problem_id, type(exc).__name__, exc)
                yield ProblemOutput(0, (), f"{type(exc).__name__}: {exc}")
                return
            for i, request in enumerate(requests):
                for out in self.stream([request], params):
                    yield replace(out, index=i)
            return
        for i, completions in enumerate(results):
            yield ProblemOutput(i, tuple(completions))

    def preflight(self, params: SamplingParams | None = None) -> list[str]:
        """Check, before sampling starts, that this engine can serve a run with ``params``; raise with one line
        naming the fix if not, return warnings to record in the run. Engines with nothing to check: none."""
        return []

    def continuation_support(self) -> str | None:
        """``None`` when this engine can continue an ``assistant_prefix`` and report ``step`` for a fired stop
        string; else the reason it cannot (one line naming the fix)."""
        return None

    def image_cache(self) -> contextlib.AbstractContextManager[Any]:
        """A block inside which the engine may keep each problem's image encoding between calls (keyed by
        problem id and tiling), for work that calls it many times per problem (step-level search). Outside,
        nothing is kept. Engines without such a cache (vLLM hashes images itself) return a no-op."""
        return contextlib.nullcontext()

    def release_images(self, problem_id: str) -> None:
        """Forget one problem's cached image encoding (its work is done)."""

    def info(self) -> dict[str, Any]:
        """What to record in the run manifest about the model actually loaded."""
        return {"model": self.model_id, "engine": self.name}

    def identity(self) -> dict[str, Any]:
        """The settings that change what the engine generates; a resumed run must keep them."""
        return {"model": self.model_id, "engine": self.name}

    def close(self) -> None:
        """Release the model (GPU memory) early; engines are also released when garbage-collected."""
