"""Field values of settings records checked against their annotations.

Recipes and ``--set`` values arrive as YAML, so ``n: eight`` or ``temperature: [0.7]`` would otherwise reach
the code that uses them and fail there with a ``TypeError`` far from the typo. :func:`checked` converts what
has one obvious meaning (an int where a float is expected, a YAML number where a string is expected, a list
where a tuple is expected) and refuses the rest with a :class:`~tts.errors.ConfigError` naming the key.

Hand-written rather than pydantic/dacite: the records use a handful of annotation shapes, this keeps
``import tts`` light, and the messages name recipe keys (``sampling.n``), not Python types.

Example:
    >>> checked("sampling.n", 2, int), checked("sampling.temperature", 1, float)
    (2, 1.0)
    >>> checked("data.benchmarks", ["mmmu", "wemath"], tuple[str, ...])
    ('mmmu', 'wemath')
    >>> checked("sampling.n", "eight", int)
    Traceback (most recent call last):
    ...
    tts.errors.ConfigError: sampling.n must be an integer, got 'eight'
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from tts.errors import ConfigError

_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def checked(key: str, value: Any, annotation: Any) -> Any:
    """``value`` as the type ``annotation`` describes, or a ConfigError naming ``key``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported annotation {annotation!r}")  # pragma: no cover - records are fixed
        return checked(key, value, inner[0])
    if annotation is Any:
        return value
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if isinstance(value, annotation):
            return value
        raise ConfigError(f"{key} must be a {annotation.__name__} record, got {value!r}")
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return tuple(checked(f"{key}[{i}]", v, args[0]) for i, v in enumerate(value))
    if origin in (Mapping, dict) or annotation in (Mapping, dict):
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping of keys to values, got {value!r}")
        return {str(k): (checked(f"{key}.{k}", v, args[1]) if args else v) for k, v in value.items()}
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # YAML read `critic_label: 2025` as a number
    else:  # pragma: no cover - records use only the shapes above
        raise TypeError(f"unsupported annotation {annotation!r}")
    raise ConfigError(f"{key} must be {_NAMES[annotation]}, got {value!r}")


_HINTS: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """The evaluated field annotations of a dataclass (cached: records are built often)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check and convert every field of a frozen dataclass instance in place (from its ``__post_init__``)."""
    types_ = hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        new = checked(f"{prefix}{f.name}", value, types_[f.name])
        if new is not value:
            object.__setattr__(obj, f.name, new)


def field_default(cls: type, name: str) -> Any:
    """The default of one dataclass field (CLI options take their defaults from the records)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            raise KeyError(f"{cls.__name__}.{name} has no default")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


__all__ = ["check_fields", "checked", "field_default", "hints"]
