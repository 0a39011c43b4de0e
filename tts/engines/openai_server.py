"""Talking to an OpenAI-compatible server through the ``openai`` SDK: the client, one-line errors, the probe.

Retries, backoff and timeouts are the SDK's own (``AsyncOpenAI(max_retries=…, timeout=…)``): connection
errors, timeouts and HTTP 408/409/429/5xx are retried; waits grow from 0.5 s, doubling, capped at 8 s, each
shortened by up to 25% at random; a server's ``Retry-After`` (or ``retry-after-ms``) of up to 2 minutes
is waited out instead, a longer one is not retried. Other statuses (400, 401, 404 …) fail at once.

:func:`probe` asks the server, before any sampling, what a run needs to know: that it answers at all
(``GET /models``, or one 1-token chat request where the listing is missing), the names it serves (a run
naming another model fails at once instead of with a 404 per problem), whether it is vLLM (``owned_by``),
its context length, and, on vLLM, whether it takes per-request image settings: a stock ``vllm serve``
rejects every request that carries ``mm_processor_kwargs`` unless started with
``--trust-request-mm-kwargs`` (HTTP 400, ``param: "mm_processor_kwargs"``, whatever the request's
content), so one text-only 1-token request carrying them tells.

The engine's API is synchronous; :class:`LoopThread` runs the async client on a private event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

from tts.errors import TTSError

log = logging.getLogger(__name__)
T = TypeVar("T")

CONNECT_TIMEOUT = 10.0  # seconds to open a connection (the request timeout bounds the answer)
PROBE_RETRIES = 2  # retries of a probe: an unreachable server is reported within seconds
PROBE_LIST_TIMEOUT = 15.0  # seconds for GET /models
MM_KWARGS_FLAG = "--trust-request-mm-kwargs"
TILING_MODES = ("auto", "request", "server")
NO_KEY = "no-key"  # placeholder the SDK requires; never sent (see auth_headers)


class ServerError(TTSError, RuntimeError):
    """A request failed for good (a non-retryable status, or retries exhausted), in one line.

    ``status`` is the HTTP status (None for connection failures), ``param`` the request field the server
    named (OpenAI's and vLLM's error bodies carry one), ``detail`` the server's own message.
    """

    def __init__(self, message: str, status: int | None = None, param: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.param = param
        self.detail = detail


def make_client(base_url: str, *, api_key_env: str, timeout: float, max_retries: int) -> openai.AsyncOpenAI:
    """The async client: the API key from ``$api_key_env``, ``timeout`` seconds per attempt, ``max_retries``
    retries of a retryable failure. Without a key, send every request with :func:`auth_headers`."""
    if max_retries < 0:
        raise ValueError("max_retries must be >= 0")
    if timeout <= 0:
        raise ValueError("timeout must be > 0")
    return openai.AsyncOpenAI(api_key=os.environ.get(api_key_env) or NO_KEY, base_url=base_url,
                              max_retries=max_retries,
                              timeout=openai.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)))


def auth_headers(client: openai.AsyncOpenAI) -> dict[str, Any]:
    """Per-request headers: none with a key; without one, no ``Authorization`` header at all (local servers
    need none; the SDK otherwise insists on one, and a made-up key would be sent to the server)."""
    return {"Authorization": openai.omit} if client.api_key == NO_KEY else {}


def _retried(exc: openai.APIError) -> bool:
    """Whether the SDK retried before raising ``exc`` (its rule, for the message)."""
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    if not isinstance(exc, openai.APIStatusError):
        return False
    should = exc.response.headers.get("x-should-retry")
    if should in ("true", "false"):
        return should == "true"
    return exc.status_code in (408, 409, 429) or exc.status_code >= 500


def server_error(exc: openai.APIError, what: str, attempts: int) -> ServerError:
    """An SDK error as a one-line :class:`ServerError`: ``what`` failed, why, and after how many attempts."""
    tries = f"; gave up after {attempts} attempts" if attempts > 1 and _retried(exc) else ""
    if isinstance(exc, openai.APITimeoutError):
        return ServerError(f"{what}: no answer within the timeout{tries}")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        reason = f"{type(cause).__name__}: {cause}" if cause is not None else exc.message
        return ServerError(f"{what}: cannot connect ({reason}){tries}")
    if isinstance(exc, openai.APIStatusError):
        detail = _detail(exc)
        return ServerError(f"{what}: HTTP {exc.status_code}: {detail}{tries}", exc.status_code, exc.param, detail)
    return ServerError(f"{what}: {exc.message}")


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else body
    return " ".join(str(message or exc.message).split())[:2000]


class LoopThread:
    """A private asyncio event loop on a daemon thread, so synchronous callers can drive the async client."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.submit(coro).result()

    def close(self, cleanup: Any = None) -> None:
        """Cancel what is still running, await ``cleanup()`` (e.g. the client's ``close``), stop the loop."""
        if self.loop.is_closed() or not self._thread.is_alive():
            return

        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if cleanup is not None:
                await cleanup()

        if threading.current_thread() is self._thread:  # collected inside the loop: it cannot wait on itself
            self.loop.create_task(shutdown()).add_done_callback(lambda _: self.loop.stop())
            return
        try:
            self.submit(shutdown()).result(timeout=30)
        except Exception as exc:  # noqa: BLE001 - closing must not raise
            log.debug("closing the client loop: %s", exc)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
            if not self._thread.is_alive():
                self.loop.close()


@dataclass(frozen=True)
class ServerFacts:
    """What :func:`probe` learned about the server."""

    models: tuple[str, ...]  # names it serves (empty: it does not list them)
    vllm: bool  # speaks vLLM's extensions (detected from owned_by, or forced by the engine option)
    max_model_len: int | None  # context length it reports (vLLM does)
    mm_kwargs: bool | None  # accepts per-request mm_processor_kwargs (None: not asked)
    mm_kwargs_refusal: str = ""  # the server's message when it does not


async def probe(client: openai.AsyncOpenAI, model: str, *, vllm: bool | None, tiling: str, tiling_kwarg: str,
                timeout: float) -> ServerFacts:
    """Ask the server what a run needs before it starts; raise :class:`ServerError` (one line naming the fix)
    when it cannot serve ``model``. ``vllm`` None detects a vLLM server; ``tiling="server"`` skips the
    per-request image settings probe."""
    base = str(client.base_url).rstrip("/")
    quick = client.with_options(max_retries=min(client.max_retries, PROBE_RETRIES))
    models: tuple[str, ...] = ()
    owners: set[str] = set()
    max_len: int | None = None
    try:
        page = await quick.models.list(timeout=PROBE_LIST_TIMEOUT, extra_headers=auth_headers(client))
        cards = list(page.data)
        models = tuple(c.id for c in cards)
        owners = {str(getattr(c, "owned_by", "")) for c in cards}
        lens = [getattr(c, "max_model_len", None) for c in cards if c.id == model]
        max_len = lens[0] if lens and isinstance(lens[0], int) else None
    except openai.APIStatusError as exc:
        if exc.status_code not in (404, 405, 501):
            raise _unusable(exc, base, model, f"GET {base}/models", quick.max_retries + 1) from None
        log.info("%s does not list its models (HTTP %s); asking with one chat request", base, exc.status_code)
        await _chat_probe(quick, model, base, timeout, None)
    except openai.APIError as exc:
        raise _unusable(exc, base, model, f"GET {base}/models", quick.max_retries + 1) from None
    if models and model not in models:
        raise ServerError(f"{base} serves {', '.join(models[:10])}, not {model!r}: pass the served name as the "
                          f"policy (e.g. --policy {models[0]})")
    is_vllm = vllm if vllm is not None else "vllm" in owners
    if not is_vllm or tiling == "server":
        return ServerFacts(models, is_vllm, max_len, None)
    try:
        await _chat_probe(quick, model, base, timeout, {"mm_processor_kwargs": {tiling_kwarg: 1}})
    except ServerError as err:
        if refuses_mm_kwargs(err):
            return ServerFacts(models, is_vllm, max_len, False, err.detail)
        raise ServerError(f"{err} (this request checks that the server takes per-request image settings; "
                          "--engine-option tiling=server skips it)", err.status, err.param, err.detail) from None
    return ServerFacts(models, is_vllm, max_len, True)


def refuses_mm_kwargs(err: ServerError) -> bool:
    """Whether ``err`` is vLLM's refusal of per-request ``mm_processor_kwargs`` (a server without the flag)."""
    return err.status == 400 and (err.param == "mm_processor_kwargs" or MM_KWARGS_FLAG in err.detail)


async def _chat_probe(client: openai.AsyncOpenAI, model: str, base: str, timeout: float,
                      extra_body: dict[str, Any] | None) -> None:
    """One text-only chat request for a single token (cheap on any server)."""
    try:
        await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=1,
                                             temperature=0.0, timeout=timeout, extra_body=extra_body,
                                             extra_headers=auth_headers(client))
    except openai.APIError as exc:
        raise _unusable(exc, base, model, f"POST {base}/chat/completions", client.max_retries + 1) from None


def _unusable(exc: openai.APIError, base: str, model: str, what: str, attempts: int) -> ServerError:
    """A probe's failure as the one line a user needs."""
    err = server_error(exc, what, attempts)
    if err.status in (401, 403):
        return ServerError(f"{base} refused the API key (HTTP {err.status}: {err.detail}): set $OPENAI_API_KEY "
                           "(or the variable the engine option api_key_env names)", err.status, err.param, err.detail)
    if err.status == 404 and (err.param == "model" or model in err.detail):
        return ServerError(f"{base} does not serve {model!r} ({err.detail}): pass the served name as the policy",
                           err.status, err.param, err.detail)
    if err.status == 404:
        return ServerError(f"{err} (is base_url the API root, e.g. http://host:8000/v1?)", err.status, err.param,
                           err.detail)
    if err.status is None:
        return ServerError(f"cannot reach the OpenAI-compatible server at {base}: {err}; start it (`vllm serve "
                           "MODEL` answers once the model is loaded) or pass --engine-option base_url=…")
    return err
