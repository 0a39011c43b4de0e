"""A small JSON-over-HTTP client with retries, for OpenAI-compatible servers (standard library only).

Retryable: HTTP 408/409/425/429/5xx, timeouts, refused or dropped connections, truncated or garbled
bodies. Waits grow exponentially from ``backoff`` (with jitter, capped by ``max_backoff``); a server's
``Retry-After`` takes precedence. Anything else (401, 400 …) fails at once with the server's message in a
:class:`ServerError`; so does the last retry, naming the last error.

Example:
    >>> client = JsonClient("http://127.0.0.1:9/v1", max_retries=0, timeout=1)
    >>> client.request("GET", "/models")
    Traceback (most recent call last):
    ...
    tts.engines.http_json.ServerError: GET http://127.0.0.1:9/v1/models: gave up after 1 attempts; last error: ...
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ServerError(RuntimeError):
    """A request failed for good: a non-retryable status, or retries exhausted."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class JsonClient:
    """POST/GET JSON to ``base_url + path`` with retries; the API key comes from ``api_key_env``."""

    def __init__(self, base_url: str, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 1800.0,
                 max_retries: int = 6, backoff: float = 1.0, max_backoff: float = 60.0) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JSON request with retries on 429/5xx/timeouts/dropped connections."""
        url = f"{self.base_url}{path}"
        data = json.dumps(body).encode() if body is not None else None
        last = ""
        for attempt in range(self.max_retries + 1):
            delay: float | None = None
            try:
                req = urllib.request.Request(url, data=data, headers=self.headers(), method=method)
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    payload = resp.read()
                return json.loads(payload)
            except urllib.error.HTTPError as exc:
                text = _read_error(exc)
                if exc.code not in RETRY_STATUS:
                    raise ServerError(f"{method} {url}: HTTP {exc.code}: {text}", exc.code, text) from None
                last = f"HTTP {exc.code}: {text}"
                delay = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, json.JSONDecodeError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt == self.max_retries:
                break
            wait = delay if delay is not None else min(self.max_backoff, self.backoff * 2**attempt)
            wait *= 1 + 0.25 * random.random()  # jitter so concurrent retries spread out
            log.warning("%s %s failed (%s); retry %d/%d in %.1fs", method, url, last, attempt + 1, self.max_retries, wait)
            time.sleep(wait)
        raise ServerError(f"{method} {url}: gave up after {self.max_retries + 1} attempts; last error: {last}")


def _read_error(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the connection may be gone
        return exc.reason if isinstance(exc.reason, str) else ""
    try:
        data = json.loads(raw)
        err = data.get("error", data) if isinstance(data, dict) else data
        message = err.get("message") if isinstance(err, dict) else None
        return str(message or raw)[:2000]
    except json.JSONDecodeError:
        return raw[:2000]


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
