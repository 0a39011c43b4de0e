"""The OpenAI-compatible engine: any chat-completions server (``vllm serve``, LMDeploy, SGLang, hosted APIs).

Requests go through the ``openai`` SDK (``AsyncOpenAI`` on a private event loop; retries, backoff and
timeouts are the SDK's, see :mod:`tts.engines.openai_server`). Each problem is one chat-completions request
with ``n=N`` (sample 0 as its own greedy request when ``first_greedy``), the images as base64 ``data:`` URLs
in the user message, in placeholder order; servers that refuse ``n`` get one request per sample, each with
its own seed (:mod:`tts.engines.openai_calls`). At most ``concurrency`` requests are in flight. A problem that still fails yields an error from
:meth:`OpenAIEngine.stream` and every completed sample — of it and of the other problems — is kept.

Before the first request, :meth:`OpenAIEngine.preflight` probes the server once (reachable, serves the
model, vLLM or not, context length, per-request image settings accepted); ``identity`` and ``stream`` run
the probe themselves if nobody called it.

vLLM servers (``owned_by: vllm`` in ``GET /models``, or forced with ``vllm_extensions``) also get, through
the SDK's ``extra_body``: ``top_k``, ``return_token_ids`` (exact per-sample token counts, token-level loop
detection), ``mm_processor_kwargs`` for the per-benchmark tiling cap, ``continue_final_message`` for an
``assistant_prefix``, and ``vllm_xargs`` asking to end looping samples early — honoured when the server
runs ``vllm serve … --logits-processors tts.engines.vllm_repetition:LoopStopProcessor`` (ttscale
importable there), ignored otherwise. Elsewhere ``top_k`` is sent as is (SGLang and LMDeploy accept it), the tiling cap is
not sent, a prefix raises (the OpenAI protocol cannot continue a reply), and when several choices share one
``usage`` the per-sample completion tokens are apportioned by text length and flagged ``approx_tokens``.

Image tiling (``tiling``): a stock ``vllm serve`` rejects every request carrying ``mm_processor_kwargs``
unless started with ``--trust-request-mm-kwargs``. ``auto`` (default) sends the per-benchmark cap where the
server takes it and otherwise falls back to the server's own tiling (the checkpoint's default), with a
warning from :meth:`~OpenAIEngine.preflight` and ``image_tiling`` in the run's identity, so a run is never
resumed under the other tiling; ``request`` refuses to start without per-request tiling (exact
reproduction); ``server`` never sends it. Why fall back by default: the rollouts stay valid model output,
a hosted server's flags are often not the user's to change, and the run records the difference.

Prompt layout: the system message is InternVL's (as the other engines); ``system_message=""`` is sent as an
empty system turn, which InternVL's template renders as ``<|im_start|>system\n<|im_end|>\n`` (leaving it out
would let the server's chat template insert its default system message). The
user content is the prompt's text pieces with an image part at each ``<image>``; the newline right after a
placeholder is dropped because chat templates put one after each image themselves (InternVL's and vLLM's
placeholder joiner both do), so a prompt ``<image>\\nQ`` reaches the model as the same ``<image>\\nQ``.
Images inside the text (``… <image> and <image> …``) keep their order but vLLM moves string-format
placeholders to the front; ``image_placement="inline"`` keeps them in place for original InternVL
checkpoints served by vLLM.

Continuations (step-level search): a request's own ``n``, ``max_new_tokens`` and ``greedy``
(:func:`~tts.engines.base.request_params`) shape its calls, its ``stop`` strings go in the standard ``stop``
field, and a partial reply is continued with vLLM's ``continue_final_message`` (the final assistant message
is the prefix; vLLM refuses it with ``add_generation_prompt``). vLLM leaves a fired stop string out of the
text and names it in the choice's ``stop_reason`` (SGLang: ``matched_stop``), which is how ``step`` is told
from end of sequence; servers without both are refused for continuations (:meth:`OpenAIEngine.continuation_support`).
The completions endpoint is not used: it takes no images.

Example::

    engine = OpenAIEngine("OpenGVLab/InternVL3-8B", base_url="http://127.0.0.1:8000/v1", concurrency=16)
    warnings = engine.preflight(SamplingParams(n=8))   # raises ServerError when the server cannot serve
    for out in engine.stream(requests, SamplingParams(n=8)):
        ...
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import openai

from tts.engines.base import (
    Completion,
    Engine,
    GenerationRequest,
    ProblemOutput,
    SamplingParams,
    request_params,
)
from tts.engines.chat_messages import image_data_url, user_content
from tts.engines.openai_calls import Call, NRefused, parse_choices, plan_calls, refuses_n, single_calls
from tts.engines.openai_server import (
    MM_KWARGS_FLAG,
    TILING_MODES,
    LoopThread,
    ServerError,
    ServerFacts,
    auth_headers,
    make_client,
    probe,
    server_error,
)
from tts.engines.prompting import check_placeholders
from tts.engines.repetition import DEFAULT_DETECTOR, RepetitionDetector
from tts.engines.vllm_repetition import loop_xargs
from tts.errors import ConfigError
from tts.prompts import prompt_text

log = logging.getLogger(__name__)

SERVER_TILING = "server default"  # the identity's image_tiling when the per-benchmark cap is not sent


class OpenAIEngine(Engine):
    """Policy sampling through an OpenAI-compatible chat-completions server.

    Args:
        model: the model name the server knows (``"model"`` field of the request).
        base_url: the API root (``…/v1``); default ``$OPENAI_BASE_URL``, else ``http://127.0.0.1:8000/v1``.
        api_key_env: environment variable holding the API key (sent as a Bearer token when set).
        concurrency: most requests in flight.
        timeout: seconds per attempt (a long chain of thought takes a while).
        max_retries: retries of a retryable failure before giving up (the SDK's backoff between them).
        system_message: default InternVL's; ``""`` for an empty system turn.
        image_format: ``png`` (lossless) or ``jpeg`` (smaller uploads).
        send_n: ask for N choices per request; False sends one request per sample from the start.
        vllm_extensions: use vLLM's extra request fields; None detects a vLLM server from ``GET /models``.
        tiling: ``auto``, ``request`` or ``server`` (see the module docstring).
        tiling_kwarg: the ``mm_processor_kwargs`` key of a request's ``max_tiles`` on vLLM servers
            (``max_dynamic_patch`` for original InternVL checkpoints, ``max_patches`` for ``-hf`` ones).
        image_placement: ``parts`` (default) or ``inline`` (see :func:`user_content`).
        extra_body: more fields merged into every request body (they win over the engine's own).
        device, dtype: accepted for interface compatibility (the server owns the model).
    """

    name = "openai"
    preferred_batch_size = 64

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, timeout: float = 1800.0, max_retries: int = 6,
                 system_message: str | None = None, image_format: str = "png", send_n: bool = True,
                 vllm_extensions: bool | None = None, tiling: str = "auto", tiling_kwarg: str = "max_dynamic_patch",
                 image_placement: str = "parts", extra_body: dict[str, Any] | None = None,
                 repetition: RepetitionDetector = DEFAULT_DETECTOR, device: str | None = None,
                 dtype: str | None = None) -> None:
        super().__init__(model)
        if concurrency < 1:
            raise ConfigError("concurrency must be >= 1")
        if image_placement not in ("parts", "inline"):
            raise ConfigError(f"unknown image placement {image_placement!r}; use parts or inline")
        if tiling not in TILING_MODES:
            raise ConfigError(f"unknown tiling {tiling!r}; use {', '.join(TILING_MODES)}")
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1").rstrip("/")
        self.client = make_client(self.base_url, api_key_env=api_key_env, timeout=timeout, max_retries=max_retries)
        self.timeout = timeout
        self.concurrency = concurrency
        self.system_message = prompt_text("internvl_system") if system_message is None else system_message
        self.image_format = image_format
        self.extra_body = dict(extra_body or {})
        self.tiling = tiling
        self.tiling_kwarg = tiling_kwarg
        self.image_placement = image_placement
        self.repetition = repetition
        self._n_supported = send_n
        self._vllm_option = vllm_extensions
        self._facts: ServerFacts | None = None
        self._probe_lock = threading.Lock()
        self._loop = LoopThread("tts-openai")
        self._calls = asyncio.Semaphore(concurrency)  # requests in flight
        self._problems = asyncio.Semaphore(concurrency)  # problems in flight (bounds the encoded images held)
        self._finalizer = weakref.finalize(self, self._loop.close, self.client.close)

    # ------------------------------------------------------------------ server
    def server(self) -> ServerFacts:
        """What the server is (probed once: raises :class:`ServerError` if it cannot serve this model)."""
        with self._probe_lock:
            if self._facts is None:
                self._facts = self._loop.run(probe(self.client, self.model_id, vllm=self._vllm_option,
                                                   tiling=self.tiling, tiling_kwarg=self.tiling_kwarg,
                                                   timeout=self.timeout))
                log.info("%s: %s", self.base_url, self._facts)
                if self._facts.mm_kwargs is False and self.tiling == "auto":
                    log.warning("%s", self._tiling_fallback())
            return self._facts

    def _tiling_fallback(self) -> str:
        return (f"{self.base_url} rejects per-request image settings (started without {MM_KWARGS_FLAG}): images "
                "are tiled with the checkpoint's default, not the per-benchmark cap of the reference evaluation; "
                f"restart the server with {MM_KWARGS_FLAG} to reproduce it")

    def _known(self) -> ServerFacts:
        """The probe's result where it must already exist (inside the event loop, which must not probe)."""
        if self._facts is None:
            raise RuntimeError("the server was not probed before the first request")
        return self._facts

    def uses_vllm_extensions(self) -> bool:
        """Whether requests carry vLLM's extra fields."""
        return self.server().vllm

    def tiles_by_request(self) -> bool:
        """Whether a request's ``max_tiles`` reaches the server (vLLM's ``mm_processor_kwargs``)."""
        facts = self.server()
        return facts.vllm and self.tiling != "server" and facts.mm_kwargs is True

    def preflight(self, params: SamplingParams | None = None) -> list[str]:
        """Check, before sampling, that the server can serve this run; return warnings to record in the run
        (the tiling fallback, also logged once when the probe finds it).

        Raises :class:`ServerError` (one line naming the fix) when it cannot: unreachable, another model
        served, the API key refused, ``max_new_tokens`` beyond the server's context, per-request image
        settings refused with ``tiling="request"``.
        """
        facts = self.server()
        if params is not None and facts.max_model_len and params.max_new_tokens > facts.max_model_len:
            raise ServerError(f"max_new_tokens={params.max_new_tokens} exceeds the context of {self.model_id!r} at "
                              f"{self.base_url} ({facts.max_model_len} tokens): lower it, or restart the server "
                              f"with a longer --max-model-len")
        if facts.mm_kwargs is False:
            if self.tiling == "request":
                raise ServerError(f"{self.base_url} rejects per-request image settings ({facts.mm_kwargs_refusal}): "
                                  f"restart it with `vllm serve … {MM_KWARGS_FLAG}`, or pass --engine-option "
                                  f"tiling=auto to use the server's own tiling")
            return [self._tiling_fallback()]
        if self.tiling == "request" and not self.tiles_by_request():
            raise ServerError(f"tiling=request needs a vLLM server taking {MM_KWARGS_FLAG}; {self.base_url} is not "
                              "one (or vllm_extensions is off)")
        return []

    def continuation_support(self) -> str | None:
        """Continuing a partial reply and telling a fired stop string from end of sequence need vLLM's
        request fields (``continue_final_message``) and answer fields (``stop_reason``)."""
        if self.server().vllm:
            return None
        return (f"{self.base_url} is not a vLLM server: continuing a partial solution needs vLLM's "
                "continue_final_message and stop_reason; serve the policy with `vllm serve` (or pass "
                "--engine-option vllm_extensions=true if it is one behind a proxy)")

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"model": self.model_id, "engine": self.name, "base_url": self.base_url,
                                "system_message": self.system_message}
        if self._facts is not None:
            info.update(vllm_extensions=self._facts.vllm, served_models=list(self._facts.models[:20]),
                        max_model_len=self._facts.max_model_len,
                        image_tiling=f"per request ({self.tiling_kwarg})" if self.tiles_by_request() else SERVER_TILING)
        return info

    def identity(self) -> dict[str, Any]:
        """The model, the system message and, when the per-benchmark tiling cap does not reach the server,
        ``image_tiling`` (absent under the reference tiling, so runs made before this key existed resume)."""
        from tts.prompts import text_hash

        out = {**super().identity(), "system_message": text_hash(self.system_message)}
        if not self.tiles_by_request():
            out["image_tiling"] = SERVER_TILING
        return out

    # ------------------------------------------------------------------ requests
    def messages(self, request: GenerationRequest) -> list[dict[str, Any]]:
        """The chat messages of one problem (system, user with images, pre-filled assistant prefix)."""
        check_placeholders(request)
        urls = [image_data_url(im, self.image_format) for im in request.images]
        messages: list[dict[str, Any]] = []
        messages.append({"role": "system", "content": self.system_message})  # "" too: InternVL writes the turn
        messages.append({"role": "user", "content": user_content(request.prompt, urls, self.image_placement)})
        if request.assistant_prefix:
            messages.append({"role": "assistant", "content": request.assistant_prefix})
        return messages

    def request_kwargs(self, request: GenerationRequest, messages: list[dict[str, Any]], params: SamplingParams,
                       call: Call) -> dict[str, Any]:
        """The arguments of ``client.chat.completions.create`` for one call: standard fields by name,
        server-specific ones (vLLM's, ``top_k``) in ``extra_body``, the user's ``extra_body`` last.

        Where the next request fields go: a ``stop`` sampling setting is one line here
        (``kwargs["stop"] = list(params.stop)``, a standard field; vLLM leaves the stop string out of the
        text by default, ``include_stop_str_in_output`` would go in ``extra``). To tell a fired stop string
        (the search's ``step``) from end of sequence, :func:`~tts.engines.openai_calls.parse_choices` reads
        vLLM's ``getattr(choice, "stop_reason", None)``: the matched string (a ``str``) with finish reason
        ``stop``, a token id (``int``) for ``stop_token_ids``, None at end of sequence; plain OpenAI
        servers do not say which.
        ``params`` are the request's own (:func:`~tts.engines.base.request_params`: its ``max_new_tokens``).
        Continuing a partial assistant reply works on vLLM servers: :meth:`messages` ends with
        ``request.assistant_prefix`` and this sets ``continue_final_message`` (vLLM refuses it together
        with ``add_generation_prompt``). ``request.stop`` goes in the standard ``stop`` field.
        """
        facts = self._known()
        vllm = facts.vllm
        kwargs: dict[str, Any] = {
            "model": self.model_id, "messages": messages, "n": call.n, "max_tokens": params.max_new_tokens,
            "temperature": 0.0 if call.greedy else params.temperature, "top_p": 1.0 if call.greedy else params.top_p,
        }
        if call.seed is not None:
            kwargs["seed"] = call.seed
        if headers := auth_headers(self.client):
            kwargs["extra_headers"] = headers
        extra: dict[str, Any] = {}
        if params.top_k and not call.greedy:
            extra["top_k"] = params.top_k
        if request.assistant_prefix:
            if not vllm:
                raise ServerError("assistant_prefix needs a server that continues the final assistant message "
                                  "(vLLM's continue_final_message); this server speaks plain OpenAI")
            extra.update(continue_final_message=True, add_generation_prompt=False)
        if request.stop:
            if not vllm:
                raise ServerError("stop strings need a vLLM server, whose stop_reason tells a fired stop string "
                                  "from the end of the answer; this server speaks plain OpenAI")
            kwargs["stop"] = list(request.stop)
        if vllm:
            extra["return_token_ids"] = True
            if params.stop_on_repetition:
                extra["vllm_xargs"] = loop_xargs(self.repetition)
            if request.max_tiles and request.images and self.tiling != "server" and facts.mm_kwargs:
                extra["mm_processor_kwargs"] = {self.tiling_kwarg: request.max_tiles}
        extra.update(self.extra_body)
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    async def _run_call(self, request: GenerationRequest, messages: list[dict[str, Any]], params: SamplingParams,
                        call: Call) -> list[Completion]:
        """One request; raises :class:`NRefused` when the server will not give several choices."""
        kwargs = self.request_kwargs(request, messages, params, call)
        async with self._calls:
            started = time.perf_counter()
            try:
                response = await self.client.chat.completions.create(**kwargs)
            except openai.APIError as exc:
                err = server_error(exc, f"POST {self.base_url}/chat/completions", self.client.max_retries + 1)
                if call.n > 1 and refuses_n(err):
                    self._refuse_n(f"HTTP {err.status}: {err.detail[:200]}")
                    raise NRefused(call.first_idx, call.n) from None
                raise err from None
            except ValueError as exc:  # a 200 whose body is not JSON (the SDK does not retry it)
                raise ServerError(f"POST {self.base_url}/chat/completions: the answer is not JSON ({exc})") from None
            seconds = time.perf_counter() - started
        completions = parse_choices(response, call, seconds, self.repetition, stops=request.stop)
        if call.n > 1 and len(completions) < call.n:  # a server that silently ignores n
            self._refuse_n(f"{len(completions)} choices for n={call.n}")
            raise NRefused(call.first_idx + len(completions), call.n - len(completions), completions)
        return completions

    def _refuse_n(self, why: str) -> None:
        if self._n_supported:
            log.warning("%s does not honour n (%s); sending one request per sample", self.base_url, why)
        self._n_supported = False

    # ------------------------------------------------------------------ problems
    async def _problem(self, request: GenerationRequest, params: SamplingParams) -> tuple[list[Completion], str | None]:
        """All samples of one problem: the completions that succeeded and the first error, if any."""
        params = request_params(request, params)
        async with self._problems:
            messages = await asyncio.to_thread(self.messages, request)  # image encoding off the event loop
            pending = {asyncio.ensure_future(self._run_call(request, messages, params, c))
                       for c in plan_calls(request, params, send_n=self._n_supported)}
            completions: list[Completion] = []
            errors: list[str] = []
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    try:
                        completions += task.result()
                    except NRefused as refused:  # the rest of this call, one sample per request, in parallel
                        completions += refused.completions
                        pending |= {asyncio.ensure_future(self._run_call(request, messages, params, c))
                                    for c in single_calls(request, refused.first_idx, refused.count)}
                    except Exception as exc:  # noqa: BLE001 - keep the samples that did complete
                        errors.append(_one_line(exc))
        if params.temperature == 0 and completions:
            completions = [replace(completions[0], sample_idx=i) for i in range(params.n)]
        completions.sort(key=lambda c: c.sample_idx)
        return completions, (errors[0] if errors else None)

    def stream(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> Iterator[ProblemOutput]:
        requests = list(requests)
        if not requests:
            return
        self.preflight(params)  # an unusable server is one error before any request, not one per problem
        futures = {self._loop.submit(self._problem(r, params)): i for i, r in enumerate(requests)}
        try:
            for fut in concurrent.futures.as_completed(futures):
                i = futures[fut]
                try:
                    completions, error = fut.result()
                except Exception as exc:  # noqa: BLE001 - a bad request (e.g. placeholder mismatch) costs only itself
                    completions, error = [], _one_line(exc)
                if error:
                    log.warning("%s: %s", requests[i].problem_id, error)
                yield ProblemOutput(i, tuple(completions), error)
        finally:  # the caller stopped early (or failed): drop the work still queued
            for fut in futures:
                fut.cancel()

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
        self._finalizer()


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"

