"""The policy in the loop: a :class:`~tts.search.types.StepProposer` over any :class:`~tts.engines.Engine`.

One :meth:`EngineProposer.propose` is one engine call holding every request of the round (all live nodes of
all problems in flight). Each :class:`~tts.search.types.StepRequest` becomes one
:class:`~tts.engines.GenerationRequest`:

* ``assistant_prefix`` = the partial solution plus one ``"\\n\\n"`` (``""`` at the root, where the ordinary
  generation prompt applies), so the model continues its own reply;
* ``n`` = the request's continuations, ``seed`` = its first child's seed (children seeds are consecutive:
  the engines give sample ``i`` the seed ``seed + i``, vLLM's rule);
* ``stop=("\\n\\n",)`` when the request stops at the step boundary, none when it writes to the end;
  ``max_new_tokens`` and ``greedy`` per request.

Answers: finish ``step`` (the stop string fired; the text is the step without it), ``stop`` (end of
sequence) or ``length`` (the cap, or a loop cut by the repetition stopper, flagged ``repetition``). The
text is read as InternVL's ``model.chat`` returns a response: whitespace is stripped at the start of the
solution (the root step) and at its end (a continuation that ended the solution), so a searched solution
is the text a sampled one would be. ``tokens`` are generated tokens only. A completion with finish
``error`` fails its problem (the driver retries it alone, then gives up on it).

Image encoding: inside :meth:`EngineProposer.session` the engine keeps each problem's vision features for
the whole search (transformers; vLLM hashes images itself); :meth:`EngineProposer.release` forgets a
finished problem's.

The same ``GenerationRequest`` fields serve any "continue this prefix K times with seeds, stop at the end"
work (Monte Carlo step labels): nothing here is search-specific but the step separator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import cast

from tts.engines.base import Completion, Engine, GenerationRequest, SamplingParams
from tts.search.context import context_of
from tts.search.types import STEP_SEPARATOR, ProposalFinish, StepProposal, StepRequest


class ProposalError(RuntimeError):
    """The engine failed on a continuation (finish reason ``error``)."""


class EngineProposer:
    """Step proposals from ``engine`` sampled with ``params`` (temperature, top-p/k, loop stopping; ``n`` and
    ``max_new_tokens`` come from each request)."""

    def __init__(self, engine: Engine, params: SamplingParams, *, separator: str = STEP_SEPARATOR) -> None:
        self.engine = engine
        self.params = params
        self.separator = separator
        self.calls = 0

    @contextlib.contextmanager
    def session(self) -> Iterator[EngineProposer]:
        """The search's lifetime: the engine keeps each problem's image encoding between calls."""
        with self.engine.image_cache():
            yield self

    def release(self, problem_id: str) -> None:
        self.engine.release_images(problem_id)

    def generation_request(self, request: StepRequest) -> GenerationRequest:
        ctx = context_of(request.problem)
        return GenerationRequest(
            request.problem.problem_id, ctx.prompt, ctx.images, request.seeds[0], assistant_prefix=request.prefix,
            max_tiles=ctx.max_tiles, n=request.n, max_new_tokens=request.max_new_tokens, greedy=request.greedy,
            stop=(self.separator,) if request.stop_at_step else (),
        )

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        self.calls += 1
        outputs = self.engine.generate([self.generation_request(r) for r in requests], self.params)
        return [[self.proposal(r, c) for c in completions] for r, completions in zip(requests, outputs)]

    @staticmethod
    def proposal(request: StepRequest, completion: Completion) -> StepProposal:
        finish = completion.finish_reason
        if finish == "error":
            raise ProposalError(f"{request.problem.problem_id}: the engine failed on a continuation")
        if finish not in ("step", "stop", "length"):
            raise ProposalError(f"{request.problem.problem_id}: the engine ended a continuation with {finish!r}")
        text = completion.text
        if not request.steps:
            text = text.lstrip()  # model.chat strips the response
        if completion.finish_reason == "stop":
            text = text.rstrip()
        flags = tuple(f for f in completion.flags if f != "greedy")
        return StepProposal(text, completion.completion_tokens, cast(ProposalFinish, finish),
                            prompt_tokens=completion.prompt_tokens, flags=flags)
