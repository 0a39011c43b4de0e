"""The OpenAI-compatible engine: any chat-completions server (``vllm serve``, LMDeploy, SGLang, hosted APIs).

Each problem is one ``POST /chat/completions`` with ``n=N`` (sample 0 as its own greedy request when
``first_greedy``), the images as base64 ``data:`` URLs in the user message, in placeholder order. Servers
that refuse ``n`` (or return fewer choices) get one request per missing sample instead, each with its own
seed :func:`~tts.engines.base.sample_seed`. Requests run concurrently (at most ``concurrency`` at a time);
429, 5xx, timeouts and dropped connections are retried with exponential backoff (``Retry-After`` is
honoured); other 4xx fail at once with the server's message. A problem that still fails yields an error
from :meth:`OpenAIEngine.stream` and every completed sample — of it and of the other problems — is kept.

vLLM servers (detected from ``GET /models``, or forced with ``vllm_extensions``) also get: ``top_k``,
``return_token_ids`` (exact per-sample token counts, token-level loop detection),
``mm_processor_kwargs`` for the per-benchmark tiling cap, ``continue_final_message`` for an
``assistant_prefix``, and ``vllm_xargs`` asking to end looping samples early — honoured when the server
runs ``vllm serve … --logits-processors tts.engines.vllm_repetition:LoopStopProcessor`` (ttscale
importable there), ignored otherwise. Elsewhere ``top_k`` is sent as is (SGLang and LMDeploy accept it), the tiling cap is
not sent, a prefix raises (the OpenAI protocol cannot continue a reply), and when several choices share one
``usage`` the per-sample completion tokens are apportioned by text length and flagged ``approx_tokens``.

Prompt layout: the system message is InternVL's (as the other engines; ``system_message=""`` omits it). The
user content is the prompt's text pieces with an image part at each ``<image>``; the newline right after a
placeholder is dropped because chat templates put one after each image themselves (InternVL's and vLLM's
placeholder joiner both do), so a prompt ``<image>\\nQ`` reaches the model as the same ``<image>\\nQ``.
Images inside the text (``… <image> and <image> …``) keep their order but vLLM moves string-format
placeholders to the front; ``image_placement="inline"`` keeps them in place for original InternVL
checkpoints served by vLLM.

The API key is read from the environment variable ``api_key_env`` (default ``OPENAI_API_KEY``); no key is
fine for local servers. Only the standard library is used.

Example::

    engine = OpenAIEngine("OpenGVLab/InternVL3-8B", base_url="http://127.0.0.1:8000/v1", concurrency=16)
    for out in engine.stream(requests, SamplingParams(n=8)):
        ...
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

from tts.engines.base import Completion, Engine, GenerationRequest, ProblemOutput, SamplingParams, sample_seed
from tts.engines.chat_messages import apportion, image_data_url, user_content
from tts.engines.http_json import JsonClient, ServerError
from tts.engines.prompting import check_placeholders
from tts.engines.repetition import DEFAULT_DETECTOR, REPETITION_FLAG, RepetitionDetector, text_units
from tts.engines.vllm_repetition import loop_xargs, stopped_by_loop
from tts.prompts import prompt_text

log = logging.getLogger(__name__)

_N_REFUSAL = re.compile(r"(\bn\b|'n'|\"n\"|`n`|num_choices|multiple (choices|completions))", re.IGNORECASE)


class _NRefused(Exception):
    """The server would not return several choices; samples ``first_idx …`` still need requests."""

    def __init__(self, first_idx: int, count: int, completions: list[Completion] | None = None) -> None:
        super().__init__(f"n refused for samples {first_idx}..{first_idx + count - 1}")
        self.first_idx = first_idx
        self.count = count
        self.completions = completions or []


@dataclass(frozen=True)
class _Call:
    """One chat-completions request for some samples of a problem."""

    first_idx: int  # sample index of the first choice
    n: int
    seed: int | None
    greedy: bool


class OpenAIEngine(Engine):
    """Policy sampling through an OpenAI-compatible chat-completions server.

    Args:
        model: the model name the server knows (``"model"`` field of the request).
        base_url: the API root (``…/v1``); default ``$OPENAI_BASE_URL``, else ``http://127.0.0.1:8000/v1``.
        api_key_env: environment variable holding the API key (sent as a Bearer token when set).
        concurrency: most requests in flight.
        timeout: seconds per request (a long chain of thought takes a while).
        max_retries: retries of a retryable failure before giving up.
        backoff: first retry delay in seconds (doubles each time, with jitter, capped by ``max_backoff``).
        system_message: default InternVL's; ``""`` for none.
        image_format: ``png`` (lossless) or ``jpeg`` (smaller uploads).
        send_n: ask for N choices per request; False sends one request per sample from the start.
        vllm_extensions: use vLLM's extra request fields; None detects a vLLM server from ``GET /models``.
        tiling_kwarg: the ``mm_processor_kwargs`` key of a request's ``max_tiles`` on vLLM servers
            (``max_dynamic_patch`` for original InternVL checkpoints, ``max_patches`` for ``-hf`` ones).
        image_placement: ``parts`` (default) or ``inline`` (see :func:`user_content`).
        extra_body: more fields merged into every request body.
        device, dtype: accepted for interface compatibility (the server owns the model).
    """

    name = "openai"
    preferred_batch_size = 64

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, timeout: float = 1800.0, max_retries: int = 6, backoff: float = 1.0,
                 max_backoff: float = 60.0, system_message: str | None = None, image_format: str = "png",
                 send_n: bool = True, vllm_extensions: bool | None = None, tiling_kwarg: str = "max_dynamic_patch",
                 image_placement: str = "parts",
                 extra_body: dict[str, Any] | None = None,
                 repetition: RepetitionDetector = DEFAULT_DETECTOR, device: str | None = None,
                 dtype: str | None = None) -> None:
        super().__init__(model)
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.client = JsonClient(base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1",
                                 api_key_env=api_key_env, timeout=timeout, max_retries=max_retries, backoff=backoff,
                                 max_backoff=max_backoff)
        self.base_url = self.client.base_url
        self.concurrency = concurrency
        self.system_message = prompt_text("internvl_system") if system_message is None else system_message
        self.image_format = image_format
        self.extra_body = dict(extra_body or {})
        self.tiling_kwarg = tiling_kwarg
        if image_placement not in ("parts", "inline"):
            raise ValueError(f"unknown image placement {image_placement!r}; use parts or inline")
        self.image_placement = image_placement
        self.repetition = repetition
        self._n_supported = send_n
        self._vllm = vllm_extensions
        self._lock = threading.Lock()
        self._calls = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tts-openai-call")
        self._problems = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tts-openai-problem")

    def info(self) -> dict[str, Any]:
        return {"model": self.model_id, "engine": self.name, "base_url": self.base_url,
                "system_message": self.system_message, "vllm_extensions": self._vllm}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        return {**super().identity(), "system_message": text_hash(self.system_message)}

    # ------------------------------------------------------------------ server
    def uses_vllm_extensions(self) -> bool:
        """Whether the server is vLLM (asked once, from the ``owned_by`` of ``GET /models``)."""
        with self._lock:
            if self._vllm is None:
                try:
                    models = self.client.request("GET", "/models").get("data", [])
                    self._vllm = any(m.get("owned_by") == "vllm" for m in models)
                except ServerError as exc:
                    log.warning("could not list the server's models (%s); using the plain OpenAI protocol", exc)
                    self._vllm = False
            return self._vllm

    # ------------------------------------------------------------------ requests
    def messages(self, request: GenerationRequest) -> list[dict[str, Any]]:
        """The chat messages of one problem (system, user with images, pre-filled assistant prefix)."""
        check_placeholders(request)
        urls = [image_data_url(im, self.image_format) for im in request.images]
        messages: list[dict[str, Any]] = []
        if self.system_message:
            messages.append({"role": "system", "content": self.system_message})
        messages.append({"role": "user", "content": user_content(request.prompt, urls, self.image_placement)})
        if request.assistant_prefix:
            messages.append({"role": "assistant", "content": request.assistant_prefix})
        return messages

    def _body(self, request: GenerationRequest, messages: list[dict[str, Any]], params: SamplingParams,
              call: _Call) -> dict[str, Any]:
        vllm = self.uses_vllm_extensions()
        body: dict[str, Any] = {
            "model": self.model_id, "messages": messages, "n": call.n, "max_tokens": params.max_new_tokens,
            "temperature": 0.0 if call.greedy else params.temperature, "top_p": 1.0 if call.greedy else params.top_p,
        }
        if call.seed is not None:
            body["seed"] = call.seed
        if params.top_k and not call.greedy:
            body["top_k"] = params.top_k
        if request.assistant_prefix:
            if not vllm:
                raise ServerError("assistant_prefix needs a server that continues the final assistant message "
                                  "(vLLM's continue_final_message); this server speaks plain OpenAI")
            body.update(continue_final_message=True, add_generation_prompt=False)
        if vllm:
            body["return_token_ids"] = True
            if params.stop_on_repetition:
                body["vllm_xargs"] = loop_xargs(self.repetition)
            if request.max_tiles and request.images:  # vLLM needs --trust-request-mm-kwargs for this
                body["mm_processor_kwargs"] = {self.tiling_kwarg: request.max_tiles}
        body.update(self.extra_body)
        return body

    def _plan(self, request: GenerationRequest, params: SamplingParams) -> list[_Call]:
        if params.temperature == 0:
            return [_Call(0, 1, None, True)]
        calls = [_Call(0, 1, None, True)] if params.first_greedy else []
        first = len(calls)
        if params.n > first:
            if self._n_supported:
                calls.append(_Call(first, params.n - first, sample_seed(request.seed, first), False))
            else:
                calls += [_Call(i, 1, sample_seed(request.seed, i), False) for i in range(first, params.n)]
        return calls

    def _run_call(self, request: GenerationRequest, messages: list[dict[str, Any]], params: SamplingParams,
                  call: _Call) -> list[Completion]:
        """One request; raises :class:`_NRefused` when the server will not give several choices."""
        started = time.perf_counter()
        try:
            response = self.client.request("POST", "/chat/completions", self._body(request, messages, params, call))
        except ServerError as exc:
            if call.n > 1 and exc.status in (400, 422) and _N_REFUSAL.search(exc.body or ""):
                self._refuse_n(f"HTTP {exc.status}: {exc.body[:200]}")
                raise _NRefused(call.first_idx, call.n) from None
            raise
        completions = self._parse(response, call, time.perf_counter() - started)
        if call.n > 1 and len(completions) < call.n:  # a server that silently ignores n
            self._refuse_n(f"{len(completions)} choices for n={call.n}")
            raise _NRefused(call.first_idx + len(completions), call.n - len(completions), completions)
        return completions

    def _refuse_n(self, why: str) -> None:
        with self._lock:
            if self._n_supported:
                log.warning("%s does not honour n (%s); sending one request per sample", self.base_url, why)
            self._n_supported = False

    def _parse(self, response: dict[str, Any], call: _Call, seconds: float) -> list[Completion]:
        choices = sorted(response.get("choices") or [], key=lambda c: c.get("index", 0))[: call.n]
        if not choices:
            raise ServerError(f"{self.base_url}: response without choices: {json.dumps(response)[:500]}")
        usage = response.get("usage") or {}
        prompt_ids = response.get("prompt_token_ids")
        prompt_tokens = len(prompt_ids) if isinstance(prompt_ids, list) else int(usage.get("prompt_tokens") or 0)
        texts = [_choice_text(c) for c in choices]
        token_ids = [c.get("token_ids") for c in choices]
        exact = all(isinstance(t, list) for t in token_ids)
        if exact:
            counts = [len(t) for t in token_ids]  # type: ignore[arg-type]
        elif len(choices) == 1:
            counts = [int(usage.get("completion_tokens") or 0)]
        else:
            counts = apportion(int(usage.get("completion_tokens") or 0), [len(t) for t in texts])
        out = []
        for k, (choice, text, count) in enumerate(zip(choices, texts, counts)):
            reason = choice.get("finish_reason")
            finish = reason if reason in ("stop", "length") else ("stop" if reason == "eos" else "error")
            flags = ["greedy"] if call.greedy else []
            units = token_ids[k] if exact else text_units(text)
            if exact and finish == "stop" and units and stopped_by_loop(units[:-1], self.repetition):
                finish, units, count = "length", units[:-1], count - 1  # ended by the server's loop stopper
            if self.repetition.find(units) is not None:
                flags.append(REPETITION_FLAG)
            if not exact and len(choices) > 1:
                flags.append("approx_tokens")
            out.append(Completion(call.first_idx + k, text, finish, prompt_tokens, count, seconds / len(choices),
                                  tuple(flags)))
        return out

    # ------------------------------------------------------------------ problems
    def _problem(self, request: GenerationRequest, params: SamplingParams) -> tuple[list[Completion], str | None]:
        """All samples of one problem: the completions that succeeded and the first error, if any."""
        messages = self.messages(request)
        pending: set[Future] = set()

        def submit(call: _Call) -> None:
            pending.add(self._calls.submit(self._run_call, request, messages, params, call))

        for call in self._plan(request, params):
            submit(call)
        completions: list[Completion] = []
        errors: list[str] = []
        while pending:
            fut = next(as_completed(pending))
            pending.discard(fut)
            try:
                completions += fut.result()
            except _NRefused as refused:  # the rest of this call, one sample per request, in parallel
                completions += refused.completions
                for i in range(refused.first_idx, refused.first_idx + refused.count):
                    submit(_Call(i, 1, sample_seed(request.seed, i), False))
            except Exception as exc:  # noqa: BLE001 - keep the samples that did complete
                errors.append(f"{type(exc).__name__}: {exc}")
        if params.temperature == 0 and completions:
            completions = [replace(completions[0], sample_idx=i) for i in range(params.n)]
        completions.sort(key=lambda c: c.sample_idx)
        return completions, (errors[0] if errors else None)

    def stream(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> Iterator[ProblemOutput]:
        futures = {self._problems.submit(self._problem, r, params): i for i, r in enumerate(requests)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                completions, error = fut.result()
            except Exception as exc:  # noqa: BLE001 - a bad request (e.g. placeholder mismatch) costs only itself
                completions, error = [], f"{type(exc).__name__}: {exc}"
            if error:
                log.warning("%s: %s", requests[i].problem_id, error)
            yield ProblemOutput(i, tuple(completions), error)

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        results: list[list[Completion]] = [[] for _ in requests]
        errors = []
        for out in self.stream(requests, params):
            results[out.index] = list(out.completions)
            if out.error:
                errors.append(f"{requests[out.index].problem_id}: {out.error}")
        if errors:
            raise ServerError(f"{len(errors)} of {len(requests)} problems failed; first: {errors[0]}")
        return results

    def close(self) -> None:
        self._problems.shutdown(wait=False, cancel_futures=True)
        self._calls.shutdown(wait=False, cancel_futures=True)


def _choice_text(choice: dict[str, Any]) -> str:
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):  # some servers return content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""
