"""Option parsing shared by commands: ``key=value`` option lists and error-friendly conversions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def key_values(items: Sequence[str] | None) -> dict[str, Any]:
    """``["tensor_parallel_size=4", "max_model_len=16384"]`` → a dict with YAML-typed values."""
    from tts.config import parse_override

    return dict(parse_override(item) for item in items or ())


def split_list(text: str | None) -> list[str] | None:
    """``"a, b,c"`` → ``["a", "b", "c"]``; ``None`` or an empty string → ``None`` (no filter)."""
    return [x.strip() for x in text.split(",") if x.strip()] if text else None
