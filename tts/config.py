"""One frozen description of a Best-of-N run, shared by ``tts bestofn``, ``tts run RECIPE`` and the API.

Recipes (``recipes/*.yaml``) map one-to-one onto :class:`RunConfig`: every key of a recipe is a field here,
and an unknown key is an error (a typo must never silently fall back to a default). ``--set key=value``
overrides are parsed as YAML scalars, so ``--set n=2`` is an int and ``--set first_greedy=false`` a bool.

Example:
    >>> cfg = RunConfig.from_mapping({"policy": "p", "critic": "c", "n": 4})
    >>> apply_overrides(cfg, ["n=2", "benchmarks=[mathvista:testmini]"]).n
    2
    >>> RunConfig.from_mapping({"policy": "p", "critic": "c", "temprature": 0.5})
    Traceback (most recent call last):
    ...
    ValueError: unknown key(s) temprature (did you mean temperature?); known keys: ...
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a Best-of-N run (models, sampling, benchmarks, selection, output)."""

    policy: str
    critic: str
    n: int = 8
    benchmarks: tuple[str, ...] = ("demo",)
    engine: str = "transformers"
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    critic_kind: str = "visualprm"
    critic_label: str | None = None
    critic_options: Mapping[str, Any] = field(default_factory=dict)
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int | None = None
    max_new_tokens: int = 4096
    seed: int = 0
    first_greedy: bool = False
    prompt_set: str = "internvl_cot"
    limit: int | None = None
    ids: tuple[str, ...] | None = None
    strict: bool = False
    data_dir: str | None = None
    strategies: tuple[str, ...] = ("best_of_n", "weighted_vote", "majority", "greedy", "oracle", "random")
    aggregations: tuple[str, ...] = ("mean",)
    batch_size: int | None = None
    device: str | None = None
    dtype: str = "auto"
    shard: str | None = None
    out: str | None = None
    description: str = ""
    expected: Mapping[str, Any] = field(default_factory=dict)
    pairs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("benchmarks", "strategies", "aggregations", "ids"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(str(v) for v in value))
        for name in ("engine_options", "critic_options", "expected", "pairs"):
            object.__setattr__(self, name, dict(getattr(self, name) or {}))
        if self.n < 1:
            raise ValueError("n must be >= 1")
        if not self.benchmarks:
            raise ValueError("benchmarks must name at least one benchmark")

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RunConfig:
        """Build from a recipe mapping; unknown keys raise a ValueError naming the closest known key."""
        known = cls.field_names()
        unknown = [k for k in data if k not in known]
        if unknown:
            hints = []
            for k in unknown:
                close = difflib.get_close_matches(k, known, n=1)
                hints.append(f"{k} (did you mean {close[0]}?)" if close else k)
            raise ValueError(f"unknown key(s) {', '.join(hints)}; known keys: {', '.join(known)}")
        missing = [k for k in ("policy", "critic") if k not in data]
        if missing:
            raise ValueError(f"missing required key(s): {', '.join(missing)}")
        return cls(**dict(data))

    def to_json(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, Mapping) else v)
        return out


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with a YAML-typed value (``n=2`` → 2, ``x=null`` → None, ``b=[a, b]`` → list)."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set expects key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ValueError(f"--set {text!r}: value is not valid YAML ({exc})") from None
    return key.strip(), value


def apply_overrides(config: RunConfig, overrides: Sequence[str]) -> RunConfig:
    """A copy of ``config`` with ``key=value`` overrides applied (dotted keys reach into option mappings)."""
    data = config.to_json()
    for text in overrides:
        key, value = parse_override(text)
        head, _, rest = key.partition(".")
        if rest:
            if head not in ("engine_options", "critic_options", "expected", "pairs"):
                raise ValueError(f"--set {key}: only option mappings take dotted keys")
            data[head] = {**data.get(head, {}), rest: value}
        else:
            data[key] = value
    return RunConfig.from_mapping(data)


def load_recipe(path: str | Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a recipe YAML file (a name like ``internvl3-8b_visualprm-bo8`` finds it among the bundled ones)."""
    import yaml

    path = resolve_recipe(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a recipe is a mapping of keys to values")
    return apply_overrides(RunConfig.from_mapping(data), overrides)


def recipes_dir() -> Path:
    here = Path(__file__).resolve().parent
    for d in (here.parent / "recipes", here / "_recipes"):
        if d.is_dir():
            return d
    raise FileNotFoundError("no recipes directory found")


def resolve_recipe(path: str | Path) -> Path:
    p = Path(path)
    if p.is_file():
        return p
    candidate = recipes_dir() / (p.name if p.suffix == ".yaml" else f"{p.name}.yaml")
    if candidate.is_file():
        return candidate
    known = sorted(x.stem for x in recipes_dir().glob("*.yaml"))
    raise FileNotFoundError(f"no recipe {path!s}; bundled recipes: {', '.join(known)}")
