"""Name → implementation registries that import heavy backends only when they are asked for.

Engines, critics, strategies and benchmarks are looked up by name. A registration is either the object
itself or a ``"module:attribute"`` string, resolved at first use, so ``import tts`` never imports torch or
vllm.

Example:
    >>> reg = Registry("engine")
    >>> _ = reg.register("json", "json:dumps")
    >>> reg.get("json")([1])
    '[1]'
    >>> reg.get("jsn")
    Traceback (most recent call last):
    ...
    tts.errors.UnknownName: unknown engine 'jsn' (did you mean 'json'?); known: json
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar, cast

from tts.errors import UnknownName

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of implementations of one kind (``"engine"``, ``"critic"``, …)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, target: T | str | None = None, *, replace: bool = False) -> Any:
        """Register ``target`` under ``name``; without a target, return a decorator.

        ``target`` may be the object or a lazy ``"package.module:attr"`` path.
        """

        def _add(obj: T | str) -> T | str:
            if name in self._entries and not replace and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        if target is None:
            return _add
        _add(target)
        return target

    def get(self, name: str) -> T:
        """The implementation registered as ``name`` (imported on first use); :class:`UnknownName` (a
        ``KeyError``) with the closest known name otherwise."""
        try:
            entry = self._entries[name]
        except KeyError:
            raise UnknownName(self._unknown(name)) from None
        if isinstance(entry, str) and ":" in entry:
            module, _, attr = entry.partition(":")
            found: Any = importlib.import_module(module)
            for part in attr.split("."):
                found = getattr(found, part)
            obj = cast(T, found)
            self._entries[name] = obj
            return obj
        return cast(T, entry)

    def _unknown(self, name: str) -> str:
        known = sorted(self._entries)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; known: {', '.join(known)}"

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
