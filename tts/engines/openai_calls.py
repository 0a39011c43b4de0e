"""The calls of one problem on an OpenAI-compatible server: which requests (:func:`plan_calls`), and the
completions an answer holds (:func:`parse_choices`).

A problem's N samples are one request with ``n=N`` whose choice ``k`` is sample ``first_idx + k``, drawn
with seed ``seed + k`` on vLLM (the :func:`~tts.engines.base.sample_seed` rule), or, when the server refuses
``n``, one request per sample with that sample's own seed; either way a sample's text does not depend on
how it was asked for. A greedy sample is a request of its own (no seed).

Example:
    >>> from tts.engines.base import GenerationRequest, SamplingParams
    >>> plan_calls(GenerationRequest("p", "Q", seed=100), SamplingParams(n=3, first_greedy=True), send_n=True)
    [Call(first_idx=0, n=1, seed=None, greedy=True), Call(first_idx=1, n=2, seed=101, greedy=False)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tts.engines.base import FINISH_STEP, Completion, GenerationRequest, SamplingParams, sample_seed
from tts.engines.chat_messages import apportion
from tts.engines.openai_server import ServerError
from tts.engines.repetition import REPETITION_FLAG, RepetitionDetector, text_units
from tts.engines.vllm_repetition import stopped_by_loop

_N_REFUSAL = re.compile(r"(\bn\b|'n'|\"n\"|`n`|num_choices|multiple (choices|completions))", re.IGNORECASE)


@dataclass(frozen=True)
class Call:
    """One chat-completions request for some samples of a problem."""

    first_idx: int  # sample index of the first choice
    n: int
    seed: int | None
    greedy: bool


class NRefused(Exception):
    """The server would not return several choices; samples ``first_idx …`` still need requests."""

    def __init__(self, first_idx: int, count: int, completions: list[Completion] | None = None) -> None:
        super().__init__(f"n refused for samples {first_idx}..{first_idx + count - 1}")
        self.first_idx = first_idx
        self.count = count
        self.completions = completions or []


def plan_calls(request: GenerationRequest, params: SamplingParams, *, send_n: bool) -> list[Call]:
    """The requests that produce all ``params.n`` samples of ``request`` (one, when ``temperature`` is 0:
    every sample is then the same greedy text)."""
    if params.temperature == 0:
        return [Call(0, 1, None, True)]
    calls = [Call(0, 1, None, True)] if params.first_greedy else []
    first = len(calls)
    if params.n > first:
        if send_n:
            calls.append(Call(first, params.n - first, sample_seed(request.seed, first), False))
        else:
            calls += single_calls(request, first, params.n - first)
    return calls


def single_calls(request: GenerationRequest, first_idx: int, count: int) -> list[Call]:
    """One request per sample ``first_idx … first_idx + count - 1``, each with its own seed."""
    return [Call(i, 1, sample_seed(request.seed, i), False) for i in range(first_idx, first_idx + count)]


def refuses_n(err: ServerError) -> bool:
    """Whether ``err`` is a server's refusal of ``n > 1`` (400/422 naming ``n`` or multiple choices)."""
    return err.status in (400, 422) and (err.param == "n" or bool(_N_REFUSAL.search(err.detail)))


def parse_choices(response: Any, call: Call, seconds: float, repetition: RepetitionDetector,
                  stops: tuple[str, ...] = ()) -> list[Completion]:
    """The completions of a ``ChatCompletion``, in choice order.

    Token counts are exact where vLLM returned ``token_ids`` (an SDK extra field, asked for with
    ``return_token_ids``); else one choice takes ``usage.completion_tokens`` and several share it by text
    length, flagged ``approx_tokens``. A sample that vLLM's loop stopper ended is reported as ``length``
    without its forced end-of-sequence token; every looping sample is flagged ``repetition``. A sample ended
    by one of the request's ``stops`` (vLLM's ``stop_reason``, SGLang's ``matched_stop``: that string) is
    ``step``, unless the loop qualified at its last token (a loop is never a step).
    """
    if not hasattr(response, "choices"):  # e.g. the text of a non-JSON answer
        raise ServerError(f"the answer is not a chat completion: {str(response)[:300]}")
    choices = sorted(response.choices or [], key=lambda c: c.index or 0)[: call.n]
    if not choices:
        raise ServerError(f"response without choices: {str(response)[:500]}")
    usage = response.usage
    prompt_ids = getattr(response, "prompt_token_ids", None)
    prompt_tokens = len(prompt_ids) if isinstance(prompt_ids, list) else int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_total = int(getattr(usage, "completion_tokens", 0) or 0)
    texts = [choice_text(c) for c in choices]
    token_ids = [getattr(c, "token_ids", None) for c in choices]
    exact = all(isinstance(t, list) for t in token_ids)
    if exact:
        counts = [len(t or ()) for t in token_ids]
    elif len(choices) == 1:
        counts = [completion_total]
    else:
        counts = apportion(completion_total, [len(t) for t in texts])
    out = []
    for k, (choice, text, count) in enumerate(zip(choices, texts, counts)):
        reason = choice.finish_reason
        finish = reason if reason in ("stop", "length") else ("stop" if reason == "eos" else "error")
        flags = ["greedy"] if call.greedy else []
        units: list[Any] = list(token_ids[k] or ()) if exact else text_units(text)
        matched = getattr(choice, "stop_reason", None)
        matched = matched if isinstance(matched, str) else getattr(choice, "matched_stop", None)
        if finish == "stop" and isinstance(matched, str) and matched in stops:
            finish = "length" if exact and stopped_by_loop(units, repetition) else FINISH_STEP
        if exact and finish == "stop" and units and stopped_by_loop(units[:-1], repetition):
            finish, units, count = "length", units[:-1], count - 1  # ended by the server's loop stopper
        if repetition.find(units) is not None:
            flags.append(REPETITION_FLAG)
        if not exact and len(choices) > 1:
            flags.append("approx_tokens")
        out.append(Completion(call.first_idx + k, text, finish, prompt_tokens, count, seconds / len(choices),
                              tuple(flags)))
    return out


def choice_text(choice: Any) -> str:
    """A choice's message text (some servers return content parts instead of a string)."""
    content = getattr(choice.message, "content", None) if choice.message is not None else None
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""
