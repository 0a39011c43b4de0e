"""The run log: ``<run>/run.log`` gets every warning and every error's full traceback.

The terminal shows one clear line per error; the details a maintainer needs are in the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def attach_run_log(run_path: str | Path, level: int = logging.INFO) -> Path:
    """Send the ``tts`` logger (and warnings of libraries) to ``<run>/run.log``; idempotent per path."""
    path = Path(run_path) / "run.log"
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path.resolve():
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        console = logging.StreamHandler()  # stderr: warnings stay visible once a file handler exists
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        console.addFilter(lambda record: not record.exc_info)  # tracebacks go to the file only
        root.addHandler(console)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    logging.captureWarnings(True)
    return path


def current_run_log() -> Path | None:
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.FileHandler) and h.baseFilename.endswith("run.log"):
            return Path(h.baseFilename)
    return None
