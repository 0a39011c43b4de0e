"""One frozen description of a Best-of-N run, shared by ``tts bestofn``, ``tts run RECIPE`` and the API.

A :class:`RunConfig` is composed of one record per concern, each the single home of its defaults:

==============  =====================  ==========================================================================
key             record                 what it holds
==============  =====================  ==========================================================================
``models``      :class:`ModelConfig`   policy and critic models, engine, critic kind/label, their options, device
``sampling``    ``SamplingParams``     N, temperature, top-p/k, max new tokens, seed, first greedy (tts.sampling)
``data``        :class:`DataConfig`    benchmarks, prompt set, data dir, limit, ids, strict, shard
``selection``   :class:`SelectionConfig`  strategies and aggregations
``pairs``       :class:`PairsConfig`   MPO pairs written at the end of the run (absent: none)
``search``      ``SearchConfig``       a step-level search instead of Best-of-N (absent: Best-of-N; tts.search.config)
``expected``    mapping                the published numbers the report compares with (``rule → bench → %``)
``out``         string                 the run directory
``description`` string                 one line saying what the recipe reproduces
==============  =====================  ==========================================================================

Recipes (``recipes/*.yaml``) map one-to-one onto these records (``sampling: {n: 8}``), and ``--set`` reaches
the same keys with dots (``--set sampling.n=2``, ``--set models.engine_options.tensor_parallel_size=4``).
Values are YAML-typed and checked against the records' types; an unknown key is an error naming the closest
known key (a typo must never silently fall back to a default).

Deprecated, read until the next release: the flat keys of the recipes before the records existed
(``n: 8``, ``--set n=2``, ``--set engine_options.x=1``). Each is moved to its record with a one-line warning.

Example:
    >>> cfg = RunConfig.from_mapping({"models": {"policy": "p", "critic": "c"}, "sampling": {"n": 4}})
    >>> apply_overrides(cfg, ["sampling.n=2", "data.benchmarks=[mathvista:testmini]"]).sampling.n
    2
    >>> RunConfig.from_mapping({"models": {"policy": "p", "critic": "c"}, "sampling": {"temprature": 0.5}})
    Traceback (most recent call last):
    ...
    tts.errors.ConfigError: unknown key sampling.temprature (did you mean sampling.temperature?); ...
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.errors import ConfigError, RecipeNotFound
from tts.fields import check_fields
from tts.sampling import SamplingParams

log = logging.getLogger(__name__)

DEFAULT_STRATEGIES: tuple[str, ...] = ("best_of_n", "weighted_vote", "majority", "greedy", "oracle", "random")
DEMO_N, DEMO_MAX_NEW_TOKENS, DEMO_OUT = 4, 48, "runs/demo"
"""``tts demo``'s run: tiny checkpoints write random text, so few and short rollouts show the pipeline."""
CRITIC_BATCH_SIZE = 4
"""Problems per critic call when ``models.batch_size`` is not set (the critic batches their rollouts)."""


@dataclass(frozen=True)
class ModelConfig:
    """Which policy and critic run, through which engine and critic implementation, and where."""

    policy: str
    critic: str
    engine: str = "transformers"
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    critic_kind: str = "visualprm"
    critic_label: str | None = None  # the scores file scores/<label>.jsonl (default: the critic kind)
    critic_options: Mapping[str, Any] = field(default_factory=dict)
    device: str | None = None
    dtype: str = "auto"
    batch_size: int | None = None  # problems per engine/critic call and durable batch (default: the engine's)

    def __post_init__(self) -> None:
        check_fields(self, "models.")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError("models.batch_size must be >= 1")

    @property
    def label(self) -> str:
        """The label the critic's scores are stored under."""
        return self.critic_label or self.critic_kind


@dataclass(frozen=True)
class DataConfig:
    """Which problems the run works on and how they are asked."""

    benchmarks: tuple[str, ...] = ("demo",)
    prompt_set: str = "internvl_cot"
    data_dir: str | None = None
    limit: int | None = None  # at most this many problems per benchmark
    ids: tuple[str, ...] | None = None  # keep only these problem ids
    strict: bool = False  # a bad dataset row is an error instead of a skipped row with a warning
    shard: str | None = None  # "I/K": every K-th problem from index I

    def __post_init__(self) -> None:
        check_fields(self, "data.")
        if not self.benchmarks:
            raise ConfigError("data.benchmarks must name at least one benchmark")
        if self.limit is not None and self.limit < 1:
            raise ConfigError("data.limit must be >= 1")
        if self.shard is not None:
            from tts.shard import parse_shard

            parse_shard(self.shard)


@dataclass(frozen=True)
class SelectionConfig:
    """The selection strategies and step-score aggregations the run writes selections for."""

    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    aggregations: tuple[str, ...] = ("mean",)

    def __post_init__(self) -> None:
        check_fields(self, "selection.")


@dataclass(frozen=True)
class PairsConfig:
    """MPO preference pairs built at the end of a run: ``method``, ``format``, output folder (default
    ``RUN/pairs-<method>-<format>``) and any other keyword of :func:`tts.pairs.build_pairs` in ``options``.

    In a recipe the options sit beside the three fields (``pairs: {method: prm, min_margin: 0.1}``).
    """

    method: str = "correctness"
    format: str = "trl"
    out: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_fields(self, "pairs.")
        import inspect

        from tts.pairs import FORMATS, PAIR_METHODS, build_pairs

        PAIR_METHODS.get(self.method.replace("_", "-"))
        FORMATS.get(self.format)
        known = [p for p in inspect.signature(build_pairs).parameters
                 if p not in ("run_dir", "method", "critic", "progress")]
        unknown = [k for k in self.options if k not in known]
        if unknown:
            raise ConfigError(_unknown_message("pairs", unknown, ["method", "format", "out", *known]))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PairsConfig:
        own = {k: v for k, v in data.items() if k in ("method", "format", "out")}
        options = {**dict(data.get("options") or {}), **{k: v for k, v in data.items() if k not in (*own, "options")}}
        return cls(**own, options=options)

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "format": self.format, "out": self.out, **_plain(self.options)}


SECTIONS: dict[str, type] = {"models": ModelConfig, "sampling": SamplingParams, "data": DataConfig,
                             "selection": SelectionConfig}
"""The records whose fields were top-level keys before; ``pairs`` is a record too but always was nested."""

FLAT_KEYS: dict[str, str] = {f.name: section for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
"""Deprecated flat key → the record it moved to (``n`` → ``sampling``)."""

TOP_LEVEL: tuple[str, ...] = ("description", *SECTIONS, "pairs", "search", "expected", "out")
assert len(FLAT_KEYS) == sum(len(dataclasses.fields(c)) for c in SECTIONS.values())  # leaf names are unique
assert not set(FLAT_KEYS) & set(TOP_LEVEL)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a Best-of-N run, one record per concern (see the module docstring)."""

    models: ModelConfig
    sampling: SamplingParams = field(default_factory=SamplingParams)
    data: DataConfig = field(default_factory=DataConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    pairs: PairsConfig | None = None
    search: Any = None  # a tts.search.config.SearchConfig (imported only for a run that has one)
    expected: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    out: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        check_fields(self)
        if self.search is not None:
            from tts.search.config import SearchConfig

            if not isinstance(self.search, SearchConfig):
                raise ConfigError(f"search must be a SearchConfig record, got {self.search!r}")

    @classmethod
    def of(cls, policy: str, critic: str, **options: Any) -> RunConfig:
        """Build from keyword arguments: leaf fields of any record (``n=4``, ``benchmarks=["demo"]``), whole
        records (``sampling=SamplingParams(n=4)``) or top-level keys (``out``, ``expected`` …).

        The Python API's form (:func:`tts.bestofn`); leaf names are unique across the records.
        """
        data: dict[str, Any] = {"models": {"policy": policy, "critic": critic}}
        leaves: dict[str, dict[str, Any]] = {}
        for key, value in options.items():
            if key in FLAT_KEYS:
                leaves.setdefault(FLAT_KEYS[key], {})[key] = value
            elif key in TOP_LEVEL and key != "models":
                is_record = dataclasses.is_dataclass(value) and not isinstance(value, type)
                data[key] = _record_json(value) if is_record else value
            else:
                known = [k for k in (*TOP_LEVEL, *FLAT_KEYS) if k != "models"]
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]}=?)" if close else ""
                raise ConfigError(f"unknown option {key}={hint}; known: {', '.join(known)}")
        for section, values in leaves.items():
            if section in options:
                raise ConfigError(f"{section}= and its field(s) {', '.join(values)}= both given; give one of them")
            data[section] = {**data.get(section, {}), **values}
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str | None = None) -> RunConfig:
        """Build from a recipe mapping; unknown keys raise a ConfigError naming the closest known key.

        ``where`` names the source in deprecation warnings (a recipe path, ``--set``); ``None`` moves
        deprecated flat keys silently (reading a run made before the records existed).
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"a recipe is a mapping of keys to values, got {type(data).__name__}")
        data = nested(data, where=where)
        unknown = [k for k in data if k not in TOP_LEVEL]
        if unknown:
            raise ConfigError(_unknown_message("", unknown, [*TOP_LEVEL, *FLAT_KEYS]))
        models = _mapping("models", data.get("models"))
        missing = [f"models.{k}" for k in ("policy", "critic") if k not in models]
        if missing:
            raise ConfigError(f"missing required key(s): {', '.join(missing)}")
        records = {name: _section(name, rec, _mapping(name, data.get(name))) for name, rec in SECTIONS.items()}
        pairs = data.get("pairs")
        search = None
        if data.get("search") is not None:
            from tts.search.config import SearchConfig

            search = SearchConfig.from_mapping(_mapping("search", data["search"]))
        top = {k: data[k] for k in ("expected", "out", "description") if k in data and data[k] is not None}
        return cls(**records, pairs=None if pairs is None else PairsConfig.from_mapping(_mapping("pairs", pairs)),
                   search=search, **top)

    def to_json(self) -> dict[str, Any]:
        """The nested recipe mapping (what a run manifest stores as ``recipe``; ``from_mapping`` reads it back)."""
        out: dict[str, Any] = {"description": self.description}
        for name in SECTIONS:
            out[name] = _record_json(getattr(self, name))
        out["pairs"] = self.pairs.to_json() if self.pairs is not None else None
        if self.search is not None:
            out["search"] = self.search.to_json()
        out["expected"] = _plain(self.expected)
        out["out"] = self.out
        return out


def nested(data: Mapping[str, Any], *, where: str | None = None) -> dict[str, Any]:
    """A recipe mapping with deprecated flat keys moved into their records (a warning each when ``where``)."""
    out: dict[str, Any] = {}
    moved: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in FLAT_KEYS:
            moved.append((key, FLAT_KEYS[key]))
        else:
            out[key] = dict(value) if key in SECTIONS and isinstance(value, Mapping) else value
    for key, section in moved:
        into = out.setdefault(section, {})
        if not isinstance(into, dict):
            raise ConfigError(f"{section} must be a mapping of keys to values, got {into!r}")
        if key in into:
            raise ConfigError(f"{key} is given twice: as {key} and as {section}.{key}; keep {section}.{key}")
        into[key] = data[key]
        if where is not None:
            log.warning("%s: key %r is deprecated: write %s.%s (flat keys are read until the next release)",
                        where, key, section, key)
    return out


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a mapping of keys to values, got {value!r}")
    return value


def _section(name: str, cls: type, data: Mapping[str, Any]) -> Any:
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(_unknown_message(name, unknown, known))
    return cls(**dict(data))


def _unknown_message(section: str, unknown: Sequence[str], known: Sequence[str]) -> str:
    prefix = f"{section}." if section else ""
    hints_ = []
    for k in unknown:
        close = difflib.get_close_matches(str(k), list(known), n=1)
        suggestion = close and (f"{FLAT_KEYS[close[0]]}.{close[0]}" if not section and close[0] in FLAT_KEYS
                                else f"{prefix}{close[0]}")
        hints_.append(f"{prefix}{k} (did you mean {suggestion}?)" if suggestion else f"{prefix}{k}")
    shown = [k for k in known if section or k not in FLAT_KEYS]
    where = f" of {section}" if section else ""
    return f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints_)}; known keys{where}: {', '.join(shown)}"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _record_json(record: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with a YAML-typed value (``n=2`` → 2, ``x=null`` → None, ``b=[a, b]`` → list)."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {text!r}: value is not valid YAML ({exc})") from None
    return key.strip(), value


def apply_overrides(config: RunConfig, overrides: Sequence[str]) -> RunConfig:
    """A copy of ``config`` with ``key=value`` overrides applied; dotted keys reach into records and option
    mappings (``sampling.n=2``, ``models.engine_options.tensor_parallel_size=4``, ``pairs.min_margin=0.1``)."""
    data = config.to_json()
    for text in overrides:
        key, value = parse_override(text)
        parts = key.split(".")
        if parts[0] in FLAT_KEYS:
            parts.insert(0, FLAT_KEYS[parts[0]])
            log.warning("--set %s=… is deprecated: write --set %s=… (flat keys are read until the next release)",
                        key, ".".join(parts))
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:depth + 1])} is a value, not a mapping "
                                  "(dotted keys reach into records and option mappings only)")
            node = child
        node[parts[-1]] = value
    return RunConfig.from_mapping(data, where="--set")


def load_recipe(path: str | Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a recipe YAML file (a name like ``internvl3-8b_visualprm-bo8`` finds it among the bundled ones)."""
    import yaml

    path = resolve_recipe(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: a recipe is a mapping of keys to values")
    try:
        config = RunConfig.from_mapping(data, where=str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return apply_overrides(config, overrides)


def recipes_dir() -> Path:
    here = Path(__file__).resolve().parent
    for d in (here.parent / "recipes", here / "_recipes"):
        if d.is_dir():
            return d
    raise RecipeNotFound("no recipes directory found (a broken installation: reinstall ttscale)")


def resolve_recipe(path: str | Path) -> Path:
    p = Path(path)
    if p.is_file():
        return p
    candidate = recipes_dir() / (p.name if p.suffix == ".yaml" else f"{p.name}.yaml")
    if candidate.is_file():
        return candidate
    known = sorted(x.stem for x in recipes_dir().glob("*.yaml"))
    close = difflib.get_close_matches(p.stem, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise RecipeNotFound(f"no recipe {path!s}{hint}; bundled recipes: {', '.join(known)}")


__all__ = ["CRITIC_BATCH_SIZE", "DEMO_MAX_NEW_TOKENS", "DEMO_N", "DEMO_OUT", "DEFAULT_STRATEGIES", "FLAT_KEYS", "DataConfig", "ModelConfig", "PairsConfig", "RunConfig",
           "SamplingParams", "SelectionConfig", "apply_overrides", "load_recipe", "nested", "parse_override",
           "recipes_dir", "resolve_recipe"]
