"""Which model continues the prefixes, through which engine and options, with which prompt; fresh rollouts.

The default is the run's own policy, through the engine and engine options its rollouts were sampled with (a
server's ``base_url``, vLLM's ``tensor_parallel_size`` …), as DropoutNTP continues a run's responses; the prompt is
the run's prompt set, checked against the prompt files the rollouts were sampled with, so every continuation sees
the exact prompt its rollout answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tts.engines.base import Engine
from tts.errors import ConfigError
from tts.records import Problem
from tts.rundir import RunDir
from tts.step_labels.settings import MCSettings


def policy_of(run: RunDir, policy: str | Engine | None, engine: str | None) -> tuple[str, str]:
    """(model, engine name): those given, else the run's policy and engine."""
    if isinstance(policy, Engine):
        return policy.model_id, policy.name
    bound = run.config("policy") or {}
    model = policy or bound.get("model")
    if not model:
        raise ConfigError(f"{run.path} records no policy model; pass --policy (a hub id or local path)")
    return str(model), engine or bound.get("engine") or "transformers"


def prompt_set_of(run: RunDir, asked: str | None) -> str:
    """The run's prompt set (a continuation must see its rollout's prompt); another one asked for is refused."""
    bound = (run.config("prompt") or {}).get("set")
    if asked and bound and asked != bound:
        raise ConfigError(f"{run.path} was sampled with prompt set {bound!r}; its rollouts can only be continued "
                          f"with it (--prompt-set {bound})")
    return asked or bound or "internvl_cot"


def check_prompt(run: RunDir) -> None:
    """Refuse when the prompt files changed since the run was sampled (the prompts could not be re-rendered)."""
    from tts.pairs.source import check_prompt_files

    check_prompt_files(run, run.config("prompt") or {})


def engine_options(run: RunDir, engine: str, options: Mapping[str, Any], device: str | None,
                   dtype: str | None) -> dict[str, Any]:
    """The options the run's rollouts were sampled with (when it is the run's engine), then device/dtype, then
    the options given (as DropoutNTP continues a run's responses)."""
    from tts.manifest import POLICY_ENGINE

    recorded = run.manifest.get(POLICY_ENGINE) or {}
    out = dict(recorded.get("options") or {}) if recorded.get("engine") == engine else {}
    out.update({k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None})
    out.update(options)
    return out


def load_policy_engine(run: RunDir, model: str, engine: str, options: Mapping[str, Any], device: str | None,
                       dtype: str | None) -> Engine:
    """The continuing engine, loaded with :func:`engine_options`."""
    from tts.engines import load_engine

    return load_engine(engine, model, **engine_options(run, engine, options, device, dtype))


def sample_fresh(run: RunDir, benchmarks: Sequence[str], settings: MCSettings, loaded: Engine | None, model: str,
                 engine_name: str, options: Mapping[str, Any], device: str | None, dtype: str | None,
                 prompt_set: str | None, data_dir: str | Path | None, limit: int | None, rollouts: int,
                 batch_size: int | None, progress: bool) -> tuple[Engine | None, list[Problem]]:
    """Load the benchmarks' problems into the run and sample ``rollouts`` per problem with the label settings
    (the sample stage: resumable, bound in the run); returns the engine loaded here (kept for the labelling)."""
    from tts.pipeline_common import record_policy_engine, timed
    from tts.stages import add_problems
    from tts.stages import sample as sample_stage

    problems = add_problems(run, benchmarks, data_dir=data_dir, limit=limit)
    owned = None if loaded else load_policy_engine(run, model, engine_name, options, device, dtype)
    eng = loaded or owned
    assert eng is not None
    asked = prompt_set_of(run, prompt_set)
    timed(run, "sample", sample_stage, run, eng, settings.params(n=rollouts), problems, prompt_set=asked,
          batch_size=batch_size, progress=progress)
    if owned is not None:
        record_policy_engine(run, engine_name, engine_options(run, engine_name, options, device, dtype))
    return owned, problems
