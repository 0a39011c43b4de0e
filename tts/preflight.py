"""Checks that run before anything expensive: a typo is one line at the start, not a traceback after hours.

A Best-of-N run samples for hours before it loads its critic, so everything the run will need is checked
before the first model is loaded (:func:`check_run`):

* models: a local path must be a directory holding a ``config.json`` ("no such directory" for a typo,
  never a hub repo-id error); anything else must be a valid hub id that can be had: found in the local
  Hugging Face cache, or (when not offline) known to the hub, asked with one metadata request. That
  request is never required: when the hub cannot be reached, the model is simply downloaded when it is
  loaded, as before. With ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` set, a hub id must be in the cache.
  The policy of ``--engine openai`` is a served model name, checked by the engine's server probe instead;
* the engine and critic names (did-you-mean), their options (names against the implementation's
  parameters, values against their annotations and the known choices), ``dtype`` names and ``device``;
* the names the run looks up only after sampling (:func:`check_names`): benchmarks and splits, the prompt
  set, selection strategies and aggregations;
* :func:`engine_preflight` then asks the loaded engine itself (:meth:`tts.engines.Engine.preflight`: for a
  server, reachability, the served model, its context, per-request image settings) and records what it
  warns about in the run's manifest.

:func:`forget_unwritten_settings` lets a run directory whose first attempt failed before writing any
rollout take a corrected command, instead of staying bound to the settings of the failed attempt.

Example:
    >>> check_critic("visualprm", {"max_step": 12})
    Traceback (most recent call last):
    ...
    tts.errors.ConfigError: unknown critic option 'max_step' for visualprm (did you mean 'max_steps'?); ...
"""

from __future__ import annotations

import difflib
import inspect
import logging
import os
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tts.errors import ConfigError

log = logging.getLogger(__name__)

TORCH_DTYPES = ("auto", "bf16", "bfloat16", "fp16", "float16", "fp32", "float32")
"""dtype names the transformers engine and critics take (:func:`tts.models.internvl.pick_dtype`)."""
VLLM_DTYPES = (*TORCH_DTYPES, "half", "float")
"""dtype names vLLM takes besides those."""
CHOICES: dict[str, tuple[Any, ...]] = {
    "question": ("prompt", "raw"),
    "backend": ("transformers", "vllm"),
    "tiling": ("auto", "request", "server"),
    "image_placement": ("parts", "inline"),
    "image_format": ("png", "jpeg"),
    "checkpoint_style": ("auto", "native", "remote"),
}
"""Options whose value is one of a few names, wherever they appear."""
POSITIVE = ("max_steps", "token_budget", "vision_tile_budget", "max_length", "max_model_len", "max_images",
            "concurrency", "tensor_parallel_size", "max_batch_rows", "chunk_size", "max_tiles",
            "limit_mm_per_prompt")
"""Integer options that must be at least 1 when given."""
_SKIP = ("self", "model", "label")  # positional parameters the loaders fill themselves
_TRUE = ("1", "on", "yes", "true")


# --------------------------------------------------------------------------------------------- models
def offline() -> bool:
    """Whether the Hugging Face libraries are told not to reach the hub."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def looks_like_path(ref: str) -> bool:
    """A reference that can only be a local path (a hub id is ``name`` or ``owner/name``).

    >>> looks_like_path("OpenGVLab/InternVL3-8B"), looks_like_path("./ckpt"), looks_like_path("runs/a/policy")
    (False, True, True)
    """
    return ref.startswith(("/", "./", "../", "~", ".\\")) or ref.count("/") > 1 or "\\" in ref or ref in (".", "..")


def check_model(ref: str, role: str, *, revision: str | None = None, hub: bool = True) -> str | None:
    """Refuse a model that cannot be loaded; return a warning when it could not be checked.

    ``role`` names the flag in messages (``--policy``, ``--critic``). ``hub=False`` never makes a network
    request (the cache and the id's syntax are still checked).
    """
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{role} {ref}: not a directory (a model is a folder with config.json, or a hub id)")
        if not (path / "config.json").is_file():
            raise ConfigError(f"{role} {ref}: not a model directory (it has no config.json)")
        return None
    if looks_like_path(ref):
        raise ConfigError(f"{role} {ref}: no such directory")
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(ref)
    except HFValidationError as exc:
        raise ConfigError(f"{role} {ref!r}: no such directory, and not a hub id ({exc})") from None
    if _cached(ref, revision):
        return None
    if offline():
        raise ConfigError(f"{role} {ref}: no such directory, and not in the local Hugging Face cache while "
                          "HF_HUB_OFFLINE is set; download it first (hf download " + ref + ") or pass its folder")
    if not hub:
        return None
    return _ask_hub(ref, role, revision)


def _cached(repo_id: str, revision: str | None) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json", revision=revision), str)


def _ask_hub(repo_id: str, role: str, revision: str | None) -> str | None:
    """One metadata request: a missing or private repository is an error; no answer is only a warning."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        HfApi().model_info(repo_id, revision=revision, timeout=10)
    except GatedRepoError:
        return None  # exists; the download says what the licence needs
    except RepositoryNotFoundError:
        raise ConfigError(f"{role} {repo_id}: no such directory, and the Hugging Face Hub has no model {repo_id!r} "
                          "(a typo? a private model needs `hf auth login`)") from None
    except RevisionNotFoundError:
        raise ConfigError(f"{role} {repo_id}: the hub has no revision {revision!r} of it") from None
    except Exception as exc:  # noqa: BLE001 - any network trouble: the check is a courtesy, never required
        log.info("could not check %s on the hub: %s", repo_id, exc)
        return f"could not reach the Hugging Face Hub to check {role} {repo_id} ({type(exc).__name__}); it is " \
               "downloaded when it is loaded"
    return None


# ---------------------------------------------------------------------------------------------- options
def parameters(cls: type) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword parameters of ``cls.__init__`` (without self, model, label) and whether it takes
    ``**kwargs`` (then any name is passed through, e.g. to ``vllm.LLM``)."""
    params = inspect.signature(cls).parameters  # the constructor's, without self
    named = {k: p for k, p in params.items() if k not in _SKIP and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return named, any(p.kind is p.VAR_KEYWORD for p in params.values())


def check_options(kind: str, name: str, cls: type, options: Mapping[str, Any], flag: str,
                  passed_through: Iterable[str] | None = None) -> None:
    """Every key of ``options`` is a parameter of ``cls`` with a value its annotation and known choices allow.

    ``passed_through``: the names a ``**kwargs`` of ``cls`` accepts (vLLM's engine arguments), when known;
    ``None`` accepts any name there.
    """
    from tts.fields import checked

    named, open_ended = parameters(cls)
    if open_ended and passed_through is not None:
        named = {**{k: inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY) for k in passed_through}, **named}
        open_ended = False
    try:
        init = next(vars(k)["__init__"] for k in cls.__mro__ if "__init__" in vars(k))  # inherited ones too
        annotations = typing.get_type_hints(init)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: check names only
        annotations = {}
    for key, value in options.items():
        if key not in named:
            if open_ended:
                continue
            close = difflib.get_close_matches(key, list(named), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown {kind} option {key!r} for {name}{hint}; options: {', '.join(sorted(named))} "
                              f"(pass them as {flag} key=value)")
        label = f"{kind} option {key}"
        if key in annotations:
            try:
                value = checked(label, value, annotations[key])
            except TypeError:  # an annotation shape fields.checked does not know (a class, a Literal)
                pass
        check_value(label, key, value)


def check_value(label: str, key: str, value: Any) -> None:
    """The value rules every engine and critic shares (choices, positive counts, dtype names, device)."""
    if value is None:
        return
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{label} must be one of {', '.join(map(str, CHOICES[key]))}, got {value!r}")
    if key in POSITIVE and isinstance(value, int) and value < 1:
        raise ConfigError(f"{label} must be at least 1, got {value!r}")
    if key == "gpu_memory_utilization" and not (isinstance(value, int | float) and 0 < value <= 1):
        raise ConfigError(f"{label} must be a fraction in (0, 1], got {value!r}")
    if key == "dtype":
        check_dtype(value, label, VLLM_DTYPES)
    if key == "device":
        check_device(value, label)


def check_dtype(dtype: str, label: str = "--dtype", names: Sequence[str] = TORCH_DTYPES) -> None:
    if dtype not in names:
        close = difflib.get_close_matches(str(dtype), list(names), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{label}: unknown dtype {dtype!r}{hint}; use {', '.join(names)}")


def check_device(device: str | None, label: str = "--device") -> None:
    """A device torch can name, and a CUDA device only where CUDA is available."""
    if not device:
        return
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"{label}: {device!r} is not a device ({exc}); use cpu, cuda, cuda:1 …") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{label} {device}: no CUDA device is available here")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ConfigError(f"{label} {device}: there are {torch.cuda.device_count()} CUDA devices")


def needs_vllm(what: str) -> None:
    """vLLM must be importable for ``what`` (the vllm engine, a critic's vllm backend)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        raise ConfigError(f"{what} needs vLLM, which is not installed in this environment: pip install -e '.[vllm]' "
                          "(or choose another engine/backend)")


def vllm_engine_arguments() -> list[str]:
    """The names ``vllm.LLM(**kwargs)`` takes (its ``EngineArgs`` fields)."""
    import dataclasses

    from vllm import EngineArgs

    return [f.name for f in dataclasses.fields(EngineArgs)]


def check_engine(engine: str, options: Mapping[str, Any]) -> None:
    """The engine exists (did-you-mean), its options are its own (vLLM's engine arguments included) and can
    run here."""
    from tts.engines import ENGINES

    cls = ENGINES.get(engine)
    extra = None
    if engine == "vllm":
        needs_vllm("--engine vllm")
        extra = vllm_engine_arguments()
    check_options("engine", engine, cls, options, "--engine-option", extra)


def check_critic(kind: str, options: Mapping[str, Any]) -> None:
    """The critic kind exists (did-you-mean) and its options are its own, with valid values."""
    from tts.critics import CRITICS

    check_options("critic", kind, CRITICS.get(kind), options, "--critic-option")
    if options.get("backend") == "vllm":
        needs_vllm(f"--critic-option backend=vllm ({kind})")


def check_names(config: Any) -> None:
    """The names a run uses only after sampling and scoring, checked now: the benchmarks (and their splits),
    the prompt set, the selection strategies and aggregations. A typo here used to surface after hours of
    sampling, when the select stage first looked the name up."""
    from tts.benchmarks import benchmark, expand_spec, parse_full_spec
    from tts.prompts import PROMPT_SETS
    from tts.strategies import STRATEGIES
    from tts.strategies.scores import check_aggregation

    for spec in config.data.benchmarks:
        for member in expand_spec(spec):
            full = parse_full_spec(member)
            benchmark(full.name).check_split(full.split)
    PROMPT_SETS.get(config.data.prompt_set)
    for strategy in config.selection.strategies:
        STRATEGIES.get(strategy)
    for aggregation in config.selection.aggregations:
        check_aggregation(aggregation)


def check_run(config: Any, *, hub: bool = True) -> list[str]:
    """Everything a :class:`~tts.config.RunConfig` needs, before any model is loaded or problem read.

    Raises :class:`~tts.errors.ConfigError` (or :class:`~tts.errors.UnknownName`) naming the fix; returns
    warnings (a model that could not be checked on the hub).
    """
    from tts.model_options import critic_kwargs, engine_kwargs

    models = config.models
    warnings: list[str] = []
    check_names(config)
    check_dtype(models.dtype, "--dtype (models.dtype)", VLLM_DTYPES if models.engine == "vllm" else TORCH_DTYPES)
    check_device(models.device, "--device (models.device)")
    check_engine(models.engine, engine_kwargs(config))
    check_critic(models.critic_kind, {k: v for k, v in critic_kwargs(config).items() if k != "label"})
    if models.engine != "openai":  # a served model name, checked by the server probe
        warnings.append(check_model(models.policy, "--policy", hub=hub) or "")
    warnings.append(check_model(models.critic, "--critic", revision=models.critic_options.get("revision"), hub=hub) or "")
    return [w for w in warnings if w]


@contextmanager
def loading(role: str, ref: str) -> Iterator[None]:
    """Turn the Hugging Face libraries' ``OSError`` for a model that cannot be had (not on the hub, no
    network and not cached, a broken folder) into one line naming the model; other errors pass."""
    try:
        yield
    except OSError as exc:
        if not _from_hub(exc):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{role} {ref}: cannot be loaded: {first}") from exc


def _from_hub(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        module = type(seen).__module__
        if module.startswith(("huggingface_hub", "transformers", "httpx", "requests")):
            return True
        if "huggingface.co" in str(seen) or "model identifier" in str(seen) or "config.json" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# ----------------------------------------------------------------------------------------- engines, runs
def engine_preflight(run: Any, engine: Any, params: Any) -> list[str]:
    """The loaded engine's own checks before sampling (a server: reachable, serves the model …); raises what
    it raises, and returns its warnings, recorded in the run (``warnings.sample``) and in run.log. (An engine
    logs a warning itself when it finds it, so the terminal has it at once; commands list them again at the
    end, before their table.)"""
    warnings = list(engine.preflight(params))
    for message in warnings:
        log.info("preflight: %s", message)
    if run is not None:
        run.add_warnings("sample", warnings)
    return warnings


UNWRITTEN = ("run", "policy", "sampling", "prompt", "problems", "shard")
"""Settings a run binds before its first rollout is written (they bind once a rollout exists)."""


def forget_unwritten_settings(run: Any, benchmarks: Iterable[str] | None = None, *,
                              also: Iterable[str] = ()) -> list[str]:
    """Let a run that has no rollouts yet take new settings: drop the settings an earlier, failed attempt
    bound (model, engine, sampling, prompt, problems, and the sections in ``also``: a search's ``search``)
    and the critic settings of labels without scores.

    When ``benchmarks`` differ from the problems the failed attempt loaded, those problems are removed too
    (they came from the old command and nothing was made from them). Returns the sections forgotten.
    """
    from tts.records import Rollout

    config = run.manifest.get("config") or {}
    forgotten: list[str] = []
    if not run.read(Rollout):
        stored = (config.get("problems") or {}).get("benchmarks")
        if benchmarks is not None and stored is not None and list(stored) != list(benchmarks):
            problems = run.file("problems")
            if problems.exists():
                problems.unlink()
            run.manifest.get("warnings", {}).pop("problems", None)
        forgotten += [s for s in (*UNWRITTEN, *also) if config.pop(s, None) is not None]
    labels = set(run.critics())
    critics = config.get("critics") or {}
    for label in [k for k in critics if k not in labels]:
        critics.pop(label)
        forgotten.append(f"critics.{label}")
    if forgotten:
        log.info("%s: forgot the settings of an attempt that wrote nothing: %s", run.path, ", ".join(forgotten))
        run.save()
    return forgotten


__all__ = ["check_critic", "check_device", "check_dtype", "check_engine", "check_model", "check_names", "check_run",
           "engine_preflight", "forget_unwritten_settings", "loading"]
