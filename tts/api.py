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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts.config import CRITIC_BATCH_SIZE, DEMO_MAX_NEW_TOKENS, DEMO_N, DEMO_OUT, RunConfig, load_recipe
from tts.pipeline_common import (  # BestOfNResult and StageIssues stay importable from tts.api
    BestOfNResult,
    StageIssues,
    critic_kwargs,
    engine_kwargs,
    finish_run,
    problem_issues,
    record_policy_engine,
    release_memory,
    slug,
    timed,
)
from tts.records import Problem, Rollout
from tts.rundir import ConfigConflict, RunDir


def default_out(config: RunConfig) -> Path:
    shard = f"-shard{config.data.shard.replace('/', 'of')}" if config.data.shard else ""
    models = config.models
    return Path("runs") / f"bestofn-{slug(models.policy)}-{slug(models.critic)}-n{config.sampling.n}{shard}"


def _missing_rollouts(run: RunDir, problems: Sequence[Problem], n: int) -> int:
    have: dict[str, int] = {}
    for pid, _ in run.keys(Rollout):
        have[pid] = have.get(pid, 0) + 1
    return sum(max(0, n - have.get(p.id, 0)) for p in problems)


def check_resumable(run: RunDir, config: RunConfig) -> None:
    """Refuse a conflicting resume before any model is loaded: policy and engine, sampling settings,
    prompt set and the critic model stored under the same label (the rest is checked when each stage binds)."""
    from tts.stages.sample import prompt_binding

    models = config.models
    run.bind("run", {"policy": models.policy, "engine": models.engine})
    run.bind("sampling", config.sampling.to_json())
    run.bind("prompt", prompt_binding(config.data.prompt_set))
    run.check(f"critics.{models.label}", {"model": models.critic})


def run_pipeline(config: RunConfig, *, progress: bool = True) -> BestOfNResult:
    """Sample N rollouts per problem, score them with the critic, grade, select and report.

    Everything the run needs (models, engine and critic options, dtype, device) is checked first, before
    the run directory is touched (:func:`tts.preflight.check_run`), and the engine's own preflight (a
    server's reachability …) runs before sampling. Re-running the same config resumes: every stage skips
    what is already on disk. A config whose settings differ from the run's (model, n, temperature, prompt
    …) raises :class:`ConfigConflict`, unless the run has no rollout yet (a first attempt that failed
    early: its settings are forgotten); a run another process is writing raises
    :class:`~tts.runlock.RunBusy` (the lock is held until the report and pairs are written). When every
    problem of a stage fails the call raises (:class:`tts.stages.sample.StageFailed`); a partial failure is
    in ``issues``.
    """
    if config.search is not None:  # a step-level search instead of sampling then scoring
        from tts.search.pipeline import search_pipeline

        return search_pipeline(config, progress=progress)
    from tts.logs import attach_run_log
    from tts.preflight import check_run

    checked = check_run(config)
    with RunDir.open(config.out or default_out(config)) as run:  # the writer lock, until the report is written
        attach_run_log(run.path)
        run.add_warnings("preflight", checked)
        return _pipeline(run, config, progress)


def _pipeline(run: RunDir, config: RunConfig, progress: bool) -> BestOfNResult:
    from tts.critics import load_critic
    from tts.engines import load_engine
    from tts.preflight import engine_preflight, forget_unwritten_settings, loading
    from tts.progress import announce
    from tts.shard import parse_shard
    from tts.stages import add_problems, sample, score
    from tts.stages.sample import StageFailed, all_failed_message

    params, data, models = config.sampling, config.data, config.models
    forget_unwritten_settings(run, data.benchmarks)
    check_resumable(run, config)
    shard = parse_shard(data.shard) if data.shard else None
    announce(f"problems: loading {', '.join(data.benchmarks)}", enabled=progress)
    problems = timed(run, "problems", add_problems, run, data.benchmarks, data_dir=data.data_dir,
                     limit=data.limit, ids=data.ids, strict=data.strict, shard=shard, progress=progress)
    run.manifest["recipe"] = config.to_json()  # only once every check has passed
    run.save()
    issues = [i for i in [problem_issues(run)] if i is not None]

    if _missing_rollouts(run, problems, params.n):
        options = engine_kwargs(config)
        announce(f"policy: loading {models.policy} ({models.engine} engine)", enabled=progress)
        with loading("--policy", models.policy):
            engine = load_engine(models.engine, models.policy, **options)
        try:
            checked = engine_preflight(run, engine, params)
            if checked:
                issues.append(StageIssues("preflight", "warnings before sampling", len(checked), len(checked),
                                          tuple(checked)))
            sampled = timed(run, "sample", sample, run, engine, params, problems, prompt_set=data.prompt_set,
                            batch_size=models.batch_size, progress=progress)
            record_policy_engine(run, models.engine, options)  # the run accepted this engine (the stage bound it)
        finally:
            engine.close()
            del engine
            release_memory()
        if sampled.failed:
            issues.append(StageIssues("sample", "problems failed to sample (left unsampled; run the command "
                                      "again to retry them)", sampled.failed, sampled.attempted, sampled.failures))

    announce(f"critic: loading {models.critic} ({models.critic_kind})", enabled=progress)
    with loading("--critic", models.critic):
        critic = load_critic(models.critic_kind, models.critic, **critic_kwargs(config))
    label = critic.label
    try:
        scored = timed(run, f"score:{label}", score, run, critic, problems,
                       batch_size=models.batch_size or CRITIC_BATCH_SIZE, progress=progress)
    finally:
        critic.close()  # the vLLM backend frees its KV cache only here
        del critic
        release_memory()
    if scored.failed_problems:
        if scored.failed_problems == scored.problems:
            raise StageFailed(all_failed_message(f"scoring with {label}", scored.failed_problems, scored.failures))
        issues.append(StageIssues(f"score:{label}", "problems failed to score (left unselected; run the command "
                                  "again to retry them)", scored.failed_problems, scored.problems, scored.failures))
    report = finish_run(run, config, problems, label, progress=progress)
    return BestOfNResult(run.path, report, tuple(issues))


def bestofn(policy: str, critic: str, *, progress: bool = True, **options: Any) -> BestOfNResult:
    """Best-of-N with a process reward model.

    ``options`` are the fields of the config records by name (``n=8``, ``temperature=0.7``,
    ``benchmarks=["mathvista"]``, ``engine="vllm"``, ``strategies=[...]``, ``out="runs/x"`` …) or whole records
    (``sampling=SamplingParams(...)``); see :meth:`tts.config.RunConfig.of`. ``progress=False`` hides the
    progress bars.
    """
    if options.get("out") is not None:
        options["out"] = str(options["out"])
    return run_pipeline(RunConfig.of(policy, critic, **options), progress=progress)


def run_recipe(recipe: str | Path, overrides: Sequence[str] = (), *, progress: bool = True) -> BestOfNResult:
    """Run a recipe file (or a bundled recipe's name) with ``key=value`` overrides."""
    return run_pipeline(load_recipe(recipe, overrides), progress=progress)


def demo(out: str | Path | None = None, *, n: int = DEMO_N, max_new_tokens: int = DEMO_MAX_NEW_TOKENS,
         progress: bool = True) -> BestOfNResult:
    """Run the whole pipeline on the tiny offline checkpoints and the bundled problems (no download)."""
    from tts.testing import tiny_checkpoints

    ckpts = tiny_checkpoints()
    return bestofn(str(ckpts.policy), str(ckpts.critic), n=n, benchmarks=["demo"], out=str(out or DEMO_OUT),
                   max_new_tokens=max_new_tokens, first_greedy=True, strategies=("best_of_n",), progress=progress)


__all__ = ["BestOfNResult", "ConfigConflict", "StageIssues", "bestofn", "demo", "run_pipeline", "run_recipe"]
