"""ttscale: test-time scaling for multimodal math reasoning.

The public API is small and imported lazily (``import tts`` stays fast and GPU-free):

* :func:`tts.bestofn` — sample, score, grade, select and report over a run directory;
* :func:`tts.run_recipe` — the same from a recipe file (``recipes/*.yaml``) with overrides;
* :func:`tts.open_run` — a run directory as pandas DataFrames;
* :func:`tts.demo` — the whole pipeline on tiny offline checkpoints.

Example:
    >>> import tts
    >>> run = tts.open_run("runs/demo")   # doctest: +SKIP
"""

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "bestofn": "tts.api",
    "demo": "tts.api",
    "run_recipe": "tts.api",
    "open_run": "tts.run",
    "Run": "tts.run",
    "RunConfig": "tts.config",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tts' has no attribute {name!r}")
