"""A scriptable OpenAI-compatible chat server on loopback, for fault injection in the engine tests.

Each POST /chat/completions takes the next scripted fault (then answers normally): ``("status", code)``,
``("status", code, {"Retry-After": "0"})``, ``"drop"`` (close the connection without answering),
``("sleep", seconds)`` (answer late, to trip the client's timeout), ``"truncate"`` (close the connection
half-way through the body), ``"garbled"`` (a complete 200 whose JSON is cut short), ``"refuse_n"`` (400 when n > 1, as
servers without multi-choice support do) or ``"ignore_n"`` (answer with one choice whatever n is). A
prompt containing ``always_fail`` gets HTTP 500 every time. Normal answers are deterministic in
(seed, choice index), so tests can check which seed each sample used.

It imitates vLLM's OpenAI server where the engine depends on it (vllm 0.32's ``serving`` code, checked
against a real ``vllm serve`` in test_openai_engine.py): ``GET /models`` lists ``model`` with ``owned_by``
(and ``max_model_len``, as vLLM's model cards carry); a request for another model gets vLLM's 404; a
request carrying non-empty ``mm_processor_kwargs`` gets vLLM's 400 unless ``trust_mm_kwargs`` (a server
started with ``--trust-request-mm-kwargs``), whatever its content; with ``owned_by="vllm"``,
``return_token_ids`` adds ``token_ids`` per choice and ``prompt_token_ids``. ``list_models=False`` answers
``GET /models`` with 404 (servers without a listing), ``models_status`` with that status.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# vLLM's answer to per-request mm_processor_kwargs on a server without --trust-request-mm-kwargs
# (vllm/entrypoints/generate/base/protocol.py validate_request_mm_kwargs, through create_error_response).
MM_KWARGS_REFUSAL = {"error": {
    "message": "Per-request mm_processor_kwargs are disabled by default because they can change multimodal "
               "preprocessing resource usage. Start the server with --trust-request-mm-kwargs only when clients "
               "are trusted. (parameter=mm_processor_kwargs)",
    "type": "BadRequestError", "param": "mm_processor_kwargs", "code": 400}}


class StubServer:
    def __init__(self, *, owned_by: str = "stub", always_fail: str = "ALWAYS-FAIL", model: str = "stub-model",
                 trust_mm_kwargs: bool = False, max_model_len: int | None = None, list_models: bool = True) -> None:
        self.faults: list[Any] = []
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.attempts = 0
        self.owned_by = owned_by
        self.always_fail = always_fail
        self.model = model
        self.trust_mm_kwargs = trust_mm_kwargs
        self.max_model_len = max_model_len
        self.list_models = list_models
        self.models_status: int | None = None
        self.refuse_n_always = False
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up on this request
                    self.close_connection = True

            def do_GET(self) -> None:
                if self.path.endswith("/models") and stub.models_status:
                    self._send(stub.models_status, {"error": {"message": f"scripted {stub.models_status}"}})
                elif self.path.endswith("/models") and stub.list_models:
                    card = {"id": stub.model, "object": "model", "owned_by": stub.owned_by}
                    if stub.max_model_len:
                        card["max_model_len"] = stub.max_model_len
                    self._send(200, {"object": "list", "data": [card]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with stub._lock:
                    stub.attempts += 1
                    stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                    fault = stub.faults.pop(0) if stub.faults else None
                if body.get("model") != stub.model:
                    return self._send(404, {"error": {
                        "message": f"The model `{body.get('model')}` does not exist. Valid aliases: {stub.model}.",
                        "type": "NotFoundError", "param": "model", "code": 404}})
                if body.get("mm_processor_kwargs") and not stub.trust_mm_kwargs:
                    return self._send(400, MM_KWARGS_REFUSAL)
                text = json.dumps(body["messages"])
                if stub.always_fail in text:
                    return self._send(500, {"error": {"message": "internal error (scripted)"}})
                n = int(body.get("n", 1))
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return None
                if fault in ("garbled", "truncate"):  # a 200 whose JSON body is cut short
                    data = b'{"id": "x", "choi'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data) * (2 if fault == "truncate" else 1)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.close_connection = True
                    return None
                if isinstance(fault, tuple) and fault[0] == "status":
                    return self._send(fault[1], {"error": {"message": f"scripted {fault[1]}"}}, *fault[2:])
                if isinstance(fault, tuple) and fault[0] == "sleep":
                    time.sleep(fault[1])
                if (fault == "refuse_n" or stub.refuse_n_always) and n > 1:
                    return self._send(400, {"error": {"message": "Invalid value for 'n': only n=1 is supported."}})
                if fault == "ignore_n":
                    n = 1
                with stub._lock:
                    stub.bodies.append(body)
                seed = body.get("seed")
                choices = []
                for k in range(n):
                    s = None if seed is None else seed + k
                    choices.append({"index": k, "message": {"role": "assistant", "content": f"answer seed={s}"},
                                    "finish_reason": "length" if body.get("max_tokens", 99) < 3 else "stop"})
                usage = {"prompt_tokens": 11, "completion_tokens": 3 * n, "total_tokens": 11 + 3 * n}
                answer = {"id": "x", "object": "chat.completion", "created": 0, "model": stub.model,
                          "choices": choices, "usage": usage}
                if stub.owned_by == "vllm" and body.get("return_token_ids"):
                    answer["prompt_token_ids"] = list(range(11))
                    for c in choices:
                        c["token_ids"] = [7, 8, 9]
                return self._send(200, answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
