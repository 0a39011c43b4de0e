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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tts.config import CRITIC_BATCH_SIZE, DEMO_MAX_NEW_TOKENS, DEMO_N, DEMO_OUT, RunConfig, load_recipe
from tts.records import Problem, Rollout
from tts.rundir import ConfigConflict, RunDir

T = TypeVar("T")


@dataclass(frozen=True)
class StageIssues:
    """What went wrong in one stage of a pipeline call without stopping it: ``count`` of ``total`` items
    (``what``: "problems failed to sample", "bad dataset rows skipped" …) and the first reasons."""

    stage: str
    what: str
    count: int
    total: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class BestOfNResult:
    run_dir: Path
    report: dict[str, Any]
    issues: tuple[StageIssues, ...] = ()
    """Partial failures of this call (printed by the CLI at the end, before the table)."""


def slug(model: str) -> str:
    """A short, filesystem-safe name for a model id or path (``OpenGVLab/InternVL3-8B`` → ``InternVL3-8B``)."""
    base = Path(model.rstrip("/")).name or model
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base)[:60]


def default_out(config: RunConfig) -> Path:
    shard = f"-shard{config.data.shard.replace('/', 'of')}" if config.data.shard else ""
    models = config.models
    return Path("runs") / f"bestofn-{slug(models.policy)}-{slug(models.critic)}-n{config.sampling.n}{shard}"


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
    models = config.models
    kwargs = dict(models.engine_options)
    if models.engine == "transformers":
        kwargs.setdefault("device", models.device)
        kwargs.setdefault("dtype", models.dtype)
    return kwargs


def critic_kwargs(config: RunConfig) -> dict[str, Any]:
    models = config.models
    return {"label": models.critic_label, "device": models.device, "dtype": models.dtype, **models.critic_options}


POLICY_ENGINE = "policy_engine"
"""Manifest key of the engine name and options the rollouts were sampled with (``tts pairs`` reuses them)."""


def record_policy_engine(run: RunDir, engine: str, options: Mapping[str, Any]) -> None:
    """Remember how the policy was served (engine and its options, e.g. a server's ``base_url``), so a later
    command that runs the policy again (DropoutNTP pairs) reaches the same model the same way."""
    run.manifest[POLICY_ENGINE] = {"engine": engine, "options": dict(options)}
    run.save()


def check_resumable(run: RunDir, config: RunConfig) -> None:
    """Refuse a conflicting resume before any model is loaded: policy and engine, sampling settings,
    prompt set and the critic model stored under the same label (the rest is checked when each stage binds)."""
    from tts.stages.sample import prompt_binding

    models = config.models
    run.bind("run", {"policy": models.policy, "engine": models.engine})
    run.bind("sampling", config.sampling.to_json())
    run.bind("prompt", prompt_binding(config.data.prompt_set))
    run.check(f"critics.{models.label}", {"model": models.critic})


def problem_issues(run: RunDir) -> StageIssues | None:
    """The dataset rows the problems stage skipped (it reloads every row on each call, so these are this
    call's), as ``tts problems`` reports them."""
    entry = run.manifest.get("warnings", {}).get("problems") or {}
    if not entry.get("count"):
        return None
    return StageIssues("problems", "bad dataset rows skipped", entry["count"], entry["count"],
                       tuple(entry.get("examples") or ()))


def finish_run(run: RunDir, config: RunConfig, problems: Sequence[Problem], critic: str, *,
               progress: bool = True) -> dict[str, Any]:
    """The stages after the candidates and their scores, the same for sampled and searched runs: grade, select
    (the first ``n`` of each problem), report, and the preference pairs the config asks for. Returns the
    report."""
    from tts.stages import build_report, grade_run, select_run

    timed(run, "grade", grade_run, run, problems, progress=progress)
    timed(run, "select", select_run, run, critic, strategies=config.selection.strategies,
          aggregations=config.selection.aggregations, n=config.sampling.n, problems=problems)
    report = build_report(run, critic=critic)
    if config.pairs is not None:
        from tts.pairs import build_pairs, write_pairs

        pairs = config.pairs
        out_dir = pairs.out or run.path / f"pairs-{pairs.method}-{pairs.format}"
        write_pairs(build_pairs(run.path, pairs.method, critic=critic, **pairs.options), pairs.format, out_dir)
    return report


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
