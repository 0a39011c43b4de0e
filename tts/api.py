"""The Python API behind ``tts bestofn``, ``tts run`` and ``tts demo``: every stage over one run directory.

Example (tiny offline checkpoints; accuracy is meaningless with random weights):
    >>> import tts
    >>> from tts.testing import tiny_checkpoints
    >>> ck = tiny_checkpoints()                                    # doctest: +SKIP
    >>> result = tts.bestofn(str(ck.policy), str(ck.critic), n=4, benchmarks=["demo"],
    ...                      max_new_tokens=32, out="runs/example")   # doctest: +SKIP
    >>> result.report["accuracy"]["demo"]                          # doctest: +SKIP
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tts.config import RunConfig, load_recipe
from tts.engines.base import SamplingParams
from tts.records import Problem, Rollout
from tts.rundir import ConfigConflict, RunDir

T = TypeVar("T")


@dataclass(frozen=True)
class BestOfNResult:
    run_dir: Path
    report: dict[str, Any]


def slug(model: str) -> str:
    """A short, filesystem-safe name for a model id or path (``OpenGVLab/InternVL3-8B`` → ``InternVL3-8B``)."""
    base = Path(model.rstrip("/")).name or model
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base)[:60]


def default_out(config: RunConfig) -> Path:
    shard = f"-shard{config.shard.replace('/', 'of')}" if config.shard else ""
    return Path("runs") / f"bestofn-{slug(config.policy)}-{slug(config.critic)}-n{config.n}{shard}"


def sampling_params(config: RunConfig) -> SamplingParams:
    return SamplingParams(n=config.n, temperature=config.temperature, top_p=config.top_p, top_k=config.top_k,
                          max_new_tokens=config.max_new_tokens, seed=config.seed, first_greedy=config.first_greedy)


def timed(run: RunDir, stage: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one stage and add its wall time to the manifest (the report's cost section)."""
    start = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        run.add_stage_time(stage, time.perf_counter() - start)


def release_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass


def _missing_rollouts(run: RunDir, problems: Sequence[Problem], n: int) -> int:
    have: dict[str, int] = {}
    for pid, _ in run.keys(Rollout):
        have[pid] = have.get(pid, 0) + 1
    return sum(max(0, n - have.get(p.id, 0)) for p in problems)


def engine_kwargs(config: RunConfig) -> dict[str, Any]:
    kwargs = dict(config.engine_options)
    if config.engine == "transformers":
        kwargs.setdefault("device", config.device)
        kwargs.setdefault("dtype", config.dtype)
    return kwargs


def critic_kwargs(config: RunConfig) -> dict[str, Any]:
    return {"label": config.critic_label, "device": config.device, "dtype": config.dtype, **config.critic_options}


def check_resumable(run: RunDir, config: RunConfig, params: SamplingParams) -> None:
    """Refuse a conflicting resume before any model is loaded: policy and engine, sampling settings,
    prompt set and the critic model stored under the same label (the rest is checked when each stage binds)."""
    from tts.stages.sample import prompt_binding

    run.bind("run", {"policy": config.policy, "engine": config.engine})
    run.bind("sampling", params.to_json())
    run.bind("prompt", prompt_binding(config.prompt_set))
    run.check(f"critics.{config.critic_label or config.critic_kind}", {"model": config.critic})


def run_pipeline(config: RunConfig, *, progress: bool = True) -> BestOfNResult:
    """Sample N rollouts per problem, score them with the critic, grade, select and report.

    Re-running the same config resumes: every stage skips what is already on disk. A config whose
    settings differ from the run's (model, n, temperature, prompt …) raises :class:`ConfigConflict`; a run
    another process is writing raises :class:`~tts.runlock.RunBusy` (the lock is held until the report and
    pairs are written).
    """
    from tts.logs import attach_run_log

    params = sampling_params(config)
    with RunDir.open(config.out or default_out(config)) as run:  # the writer lock, until the report is written
        attach_run_log(run.path)
        return _pipeline(run, config, params, progress)


def _pipeline(run: RunDir, config: RunConfig, params: SamplingParams, progress: bool) -> BestOfNResult:
    from tts.critics import load_critic
    from tts.engines import load_engine
    from tts.shard import parse_shard
    from tts.stages import add_problems, build_report, grade_run, sample, score, select_run

    check_resumable(run, config, params)
    shard = parse_shard(config.shard) if config.shard else None
    problems = timed(run, "problems", add_problems, run, config.benchmarks, data_dir=config.data_dir,
                     limit=config.limit, ids=config.ids, strict=config.strict, shard=shard)
    run.manifest["recipe"] = config.to_json()  # only once every check has passed
    run.save()

    if _missing_rollouts(run, problems, config.n):
        engine = load_engine(config.engine, config.policy, **engine_kwargs(config))
        try:
            timed(run, "sample", sample, run, engine, params, problems, prompt_set=config.prompt_set,
                  batch_size=config.batch_size, progress=progress)
        finally:
            engine.close()
            del engine
            release_memory()

    critic = load_critic(config.critic_kind, config.critic, **critic_kwargs(config))
    label = critic.label
    try:
        timed(run, f"score:{label}", score, run, critic, problems, batch_size=config.batch_size or 4, progress=progress)
    finally:
        critic.close()  # the vLLM backend frees its KV cache only here
        del critic
        release_memory()
    timed(run, "grade", grade_run, run, problems, progress=progress)
    timed(run, "select", select_run, run, label, strategies=config.strategies, aggregations=config.aggregations,
          n=config.n, problems=problems)
    report = build_report(run, critic=label)
    if config.pairs:
        from tts.pairs import build_pairs, write_pairs

        pairs_cfg = dict(config.pairs)
        method, fmt = pairs_cfg.pop("method", "correctness"), pairs_cfg.pop("format", "trl")
        out_dir = pairs_cfg.pop("out", None) or run.path / f"pairs-{method}-{fmt}"
        write_pairs(build_pairs(run.path, method, critic=label, **pairs_cfg), fmt, out_dir)
    return BestOfNResult(run.path, report)


def bestofn(policy: str, critic: str, **options: Any) -> BestOfNResult:
    """Best-of-N with a process reward model; ``options`` are :class:`~tts.config.RunConfig` fields.

    ``progress=False`` hides the progress bars.
    """
    progress = options.pop("progress", True)
    if "out" in options and options["out"] is not None:
        options["out"] = str(options["out"])
    return run_pipeline(RunConfig(policy=policy, critic=critic, **options), progress=progress)


def run_recipe(recipe: str | Path, overrides: Sequence[str] = (), *, progress: bool = True) -> BestOfNResult:
    """Run a recipe file (or a bundled recipe's name) with ``key=value`` overrides."""
    return run_pipeline(load_recipe(recipe, overrides), progress=progress)


def demo(out: str | Path | None = None, *, n: int = 4, max_new_tokens: int = 48, progress: bool = True) -> BestOfNResult:
    """Run the whole pipeline on the tiny offline checkpoints and the bundled problems (no download)."""
    from tts.testing import tiny_checkpoints

    ckpts = tiny_checkpoints()
    return bestofn(str(ckpts.policy), str(ckpts.critic), n=n, benchmarks=["demo"], out=str(out or Path("runs") / "demo"),
                   max_new_tokens=max_new_tokens, first_greedy=True, strategies=("best_of_n",), progress=progress)


__all__ = ["BestOfNResult", "ConfigConflict", "bestofn", "demo", "run_pipeline", "run_recipe"]
