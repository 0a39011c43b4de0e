"""A scriptable OpenAI-compatible chat server on loopback, for fault injection in the engine tests.

Each POST /chat/completions takes the next scripted fault (then answers normally): ``("status", code)``,
``("status", code, {"Retry-After": "0"})``, ``"drop"`` (close the connection without answering),
``("sleep", seconds)`` (answer late, to trip the client's timeout), ``"refuse_n"`` (400 when n > 1, as
servers without multi-choice support do) or ``"ignore_n"`` (answer with one choice whatever n is). A
prompt containing ``always_fail`` gets HTTP 500 every time. Normal answers are deterministic in
(seed, choice index), so tests can check which seed each sample used.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubServer:
    def __init__(self, *, owned_by: str = "stub", always_fail: str = "ALWAYS-FAIL") -> None:
        self.faults: list[Any] = []
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        self.owned_by = owned_by
        self.always_fail = always_fail
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
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "stub-model", "owned_by": stub.owned_by}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with stub._lock:
                    stub.attempts += 1
                    fault = stub.faults.pop(0) if stub.faults else None
                text = json.dumps(body["messages"])
                if stub.always_fail in text:
                    return self._send(500, {"error": {"message": "internal error (scripted)"}})
                n = int(body.get("n", 1))
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
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
                return self._send(200, {"id": "x", "object": "chat.completion", "choices": choices, "usage": usage})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
