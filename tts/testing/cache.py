"""Building a tiny checkpoint directory once per cache, safely when several processes ask at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

DONE_MARKER = "BUILT"


def default_cache_dir() -> Path:
    root = os.environ.get("TTS_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "ttscale")
    return Path(root)


def cached_build(name: str, build: Callable[[Path], object], cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache/<name>`` built by ``build(tmpdir)`` the first time; returned as is afterwards.

    The build happens in a temporary sibling directory that is renamed into place, so a crash never
    leaves a half-built checkpoint and two concurrent builders cannot both win.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / name
    if not (target / DONE_MARKER).exists():
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-build-", dir=root))
        try:
            build(tmp)
            (tmp / DONE_MARKER).write_text("ok\n")
            try:
                os.rename(tmp, target)
            except OSError:
                if (target / DONE_MARKER).exists():
                    pass  # another process finished the same build first
                else:  # a stale directory from an older layout or an interrupted copy
                    shutil.rmtree(target, ignore_errors=True)
                    os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
