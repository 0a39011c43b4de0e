"""``tts search`` / ``tts run`` with a ``search`` section: problems → search → grade → select → report.

The public function is :func:`search_pipeline` (the CLI and :func:`tts.api.run_pipeline` call it with a
:class:`~tts.config.RunConfig` whose ``search`` record is set). Both models are loaded together for the
whole search (policy first, then critic), and released before grading.

GPU memory, both models in one process (:func:`memory_split`): two vLLM engines on one GPU each take a
fraction of its memory (``gpu_memory_utilization``, weights + activations + KV cache). Unless the recipe sets
them, a vLLM policy with a vLLM critic get 0.45 each; a vLLM policy with a transformers critic gets 0.5 (as
search-and-learn's default, "vllm is allocated 0.5 of GPU memory, the PRM uses the rest"). For InternVL3-8B +
VisualPRM-8B-v1_1 on one 80 GB GPU (bf16): weights about 16 GB each, so 0.45 × 80 GB = 36 GB leaves about
18 GB of KV cache per model after activations: ~57 KB per token for InternVL3-8B (Qwen2.5-7B: 28 layers, 4 KV
heads of 128) ≈ 300k tokens, ~130 KB per token for VisualPRM-8B (InternLM2.5-7B: 32 layers, 8 KV heads of
128) ≈ 140k tokens — ample for 64 problems × 16 beams × 4k tokens of prefix-shared context. The policy may
also run on a server (``models.engine: openai`` with ``engine_options.base_url``, a ``vllm serve`` of the
policy) with the critic local: nothing else changes.

Example:
    >>> cfg = RunConfig.from_mapping({"models": {"policy": "P", "critic": "C"}, "sampling": {"n": 16},
    ...                               "search": {"algorithm": "beam", "beam_width": 4}})
    >>> default_out(cfg).name
    'search-beam-P-C-n16'
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tts.config import RunConfig
from tts.errors import ConfigError
from tts.pipeline_common import (
    BestOfNResult,
    critic_kwargs,
    engine_kwargs,
    finish_run,
    record_policy_engine,
    release_memory,
    slug,
    timed,
)
from tts.rundir import RunDir

log = logging.getLogger(__name__)

# (policy share, critic share) when both models are vLLM; the policy share when only the policy is.
BOTH_VLLM_SHARES: tuple[float, float] = (0.45, 0.45)
VLLM_POLICY_SHARE: float = 0.5


def default_out(config: RunConfig) -> Path:
    shard = f"-shard{config.data.shard.replace('/', 'of')}" if config.data.shard else ""
    m = config.models
    return Path("runs") / f"search-{config.search.algorithm}-{slug(m.policy)}-{slug(m.critic)}-n{config.sampling.n}{shard}"


def memory_split(engine: str, engine_options: dict[str, Any], critic_options: dict[str, Any]) -> list[str]:
    """Fill in ``gpu_memory_utilization`` for two models sharing a GPU (in place); the lines it logs."""
    critic_vllm = critic_options.get("backend") == "vllm"
    notes = []
    if engine == "vllm" and critic_vllm:
        policy_share, critic_share = BOTH_VLLM_SHARES
        if "gpu_memory_utilization" not in engine_options:
            engine_options["gpu_memory_utilization"] = policy_share
            notes.append(f"policy vLLM engine: gpu_memory_utilization={policy_share} (the critic's vLLM shares the GPU)")
        if "gpu_memory_utilization" not in critic_options:
            critic_options["gpu_memory_utilization"] = critic_share
            notes.append(f"critic vLLM backend: gpu_memory_utilization={critic_share} (the policy's vLLM shares the GPU)")
        total = engine_options["gpu_memory_utilization"] + critic_options["gpu_memory_utilization"]
        if total > 0.95:
            raise ConfigError(f"the policy's and the critic's gpu_memory_utilization add up to {total:.2f} of one GPU; "
                              "lower them (e.g. 0.45 each) so both vLLM engines fit")
    elif engine == "vllm" and "gpu_memory_utilization" not in engine_options:
        engine_options["gpu_memory_utilization"] = VLLM_POLICY_SHARE
        notes.append(f"policy vLLM engine: gpu_memory_utilization={VLLM_POLICY_SHARE} (the transformers critic "
                     "uses the rest)")
    for line in notes:
        log.info("%s", line)
    return notes


def check_resumable(run: RunDir, config: RunConfig) -> None:
    """Refuse a conflicting resume before any model is loaded (the stage binds the rest)."""
    from tts.stages.sample import prompt_binding
    from tts.stages.search import search_binding, search_sampling

    models, search = config.models, config.search
    settings = search.checked(n=config.sampling.n, max_new_tokens=config.sampling.max_new_tokens)
    run.bind("run", {"policy": models.policy, "engine": models.engine})
    run.bind("sampling", search_sampling(config.sampling, settings).to_json())
    run.bind("prompt", prompt_binding(config.data.prompt_set))
    run.bind("search", search_binding(search.algorithm, settings))
    run.check(f"critics.{models.label}", {"model": models.critic})


def search_pipeline(config: RunConfig, *, progress: bool = True) -> BestOfNResult:
    """Search every problem, grade the candidates, select among them and report (resumes; returns a
    :class:`tts.api.BestOfNResult`: the run directory and its report). Holds the run's writer lock until the
    report is written (:class:`~tts.runlock.RunBusy` when another process writes it)."""
    from tts.logs import attach_run_log
    from tts.preflight import check_run

    if config.search is None:
        raise ConfigError("search_pipeline needs a config with a search section")
    config.search.checked(n=config.sampling.n, max_new_tokens=config.sampling.max_new_tokens)
    checked = check_run(config)  # models, options, names: one line before the run directory is touched
    with RunDir.open(config.out or default_out(config)) as run:
        attach_run_log(run.path)
        run.add_warnings("preflight", checked)
        return _pipeline(run, config, progress)


def _pipeline(run: RunDir, config: RunConfig, progress: bool) -> BestOfNResult:
    from tts.critics import load_critic
    from tts.engines import load_engine
    from tts.preflight import engine_preflight, forget_unwritten_settings, loading
    from tts.search.store import SearchStore, algorithms_in
    from tts.shard import parse_shard
    from tts.stages import add_problems
    from tts.stages.search import complete_derived, search

    params, data, models, algorithm = config.sampling, config.data, config.models, config.search.algorithm
    settings = config.search.checked(n=params.n, max_new_tokens=params.max_new_tokens)
    if not algorithms_in(run.path):  # no problem searched yet: a failed first attempt binds nothing
        forget_unwritten_settings(run, data.benchmarks, also=("search",))
    check_resumable(run, config)
    shard = parse_shard(data.shard) if data.shard else None
    problems = timed(run, "problems", add_problems, run, data.benchmarks, data_dir=data.data_dir,
                     limit=data.limit, ids=data.ids, strict=data.strict, shard=shard, progress=progress)
    run.manifest["recipe"] = config.to_json()
    run.save()

    label = models.label
    complete_derived(run, algorithm, label)
    done = SearchStore(run, algorithm).summaries()
    if any(p.id not in done for p in problems):
        options = engine_kwargs(config)
        critic_options = critic_kwargs(config)
        memory_split(models.engine, options, critic_options)
        with loading("--policy", models.policy):
            engine = load_engine(models.engine, models.policy, **options)
        critic = None
        try:
            engine_preflight(run, engine, params)  # a server: reachable, serving the model, before the critic loads
            with loading("--critic", models.critic):
                critic = load_critic(models.critic_kind, models.critic, **critic_options)  # both loaded together
            label = critic.label
            timed(run, "search", search, run, engine, critic, algorithm, settings, params, problems,
                  prompt_set=data.prompt_set, batch_size=models.batch_size, progress=progress)
            record_policy_engine(run, models.engine, options)
        finally:
            if critic is not None:
                critic.close()
            engine.close()
            del engine, critic
            release_memory()
    report = finish_run(run, config, problems, label, progress=progress)
    return BestOfNResult(run.path, report)


__all__ = ["default_out", "memory_split", "search_pipeline"]
