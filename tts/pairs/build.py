"""``build_pairs``: one run directory + one method → a :class:`~tts.pairs.types.PairSet` with its report.

Methods (names as on the command line): ``correctness`` and ``prm`` (:mod:`tts.pairs.correctness`),
``step`` (:mod:`tts.pairs.step`) and ``dropout-ntp`` (:mod:`tts.pairs.dropout`, the only one that runs
a model). Every method walks all problems of the run and records, for each problem without a pair, why.
After all problems, pairs identical on MMPR's key (images, question, chosen, rejected, answer_gt) across
problems are dropped (duplicated questions in a benchmark would otherwise repeat pairs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.engines.base import Engine
from tts.errors import ConfigError
from tts.pairs.common import Context
from tts.pairs.correctness import correctness_problem, prm_problem
from tts.pairs.dropout import (
    DEFAULT_SAMPLING,
    ContinuationStore,
    DropoutSettings,
    dropout_pairs,
    generate_missing,
    plan_jobs,
)
from tts.pairs.rules import pair_cap
from tts.pairs.source import RunView, load_run
from tts.pairs.step import step_problem
from tts.pairs.types import Pair, PairReport, PairSet
from tts.progress import progress_bar
from tts.records import Problem
from tts.registry import Registry

log = logging.getLogger(__name__)

DUPLICATED = "all pairs duplicate another problem's pairs"
DROPOUT_DEFAULT_CAP = 1


@dataclass(frozen=True)
class PairOptions:
    """Method-specific settings (see :func:`build_pairs` for their meaning)."""

    min_margin: float | None = None
    threshold: float = 0.5
    policy: str | Engine | None = None
    engine: str | None = None
    engine_options: dict[str, Any] = field(default_factory=dict)
    start_ratio: float = 0.5
    chosen_from: str = "correct"
    sampling: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SAMPLING))
    continuations: str | Path | None = None
    batch_size: int = 4
    device: str | None = None
    dtype: str | None = None
    progress: bool = True


Results = dict[str, "list[Pair] | str"]
Method = Callable[[Context, PairOptions, dict[str, Any]], Results]
PAIR_METHODS: Registry[Method] = Registry("pair method")


def _per_problem(ctx: Context, opts: PairOptions, rule: Callable[[Problem], list[Pair] | str]) -> Results:
    results: Results = {}
    problems = ctx.view.problems
    with progress_bar(f"{ctx.report.method} pairs", total=len(problems), unit="problems", enabled=opts.progress) as advance:
        for p in problems:
            results[p.id] = rule(p)
            advance(1)
    return results


@PAIR_METHODS.register("correctness")
def _correctness(ctx: Context, opts: PairOptions, config: dict[str, Any]) -> Results:
    return _per_problem(ctx, opts, lambda p: correctness_problem(ctx, p))


@PAIR_METHODS.register("prm")
def _prm(ctx: Context, opts: PairOptions, config: dict[str, Any]) -> Results:
    config["min_margin"] = opts.min_margin
    return _per_problem(ctx, opts, lambda p: prm_problem(ctx, p, min_margin=opts.min_margin))


@PAIR_METHODS.register("step")
def _step(ctx: Context, opts: PairOptions, config: dict[str, Any]) -> Results:
    from tts.search.pairs import add_tree_pairs, load_trees  # a search run: sibling steps of its trees too

    config["threshold"] = opts.threshold
    trees = load_trees(ctx.view.path)
    return _per_problem(ctx, opts, lambda p: add_tree_pairs(ctx, p, step_problem(ctx, p, threshold=opts.threshold),
                                                            trees, threshold=opts.threshold))


@PAIR_METHODS.register("dropout-ntp")
def _dropout(ctx: Context, opts: PairOptions, config: dict[str, Any]) -> Results:
    view = ctx.view
    policy_cfg = view.policy
    loaded = opts.policy if isinstance(opts.policy, Engine) else None
    model = loaded.model_id if loaded else (opts.policy or policy_cfg.get("model"))
    if not model:
        raise ConfigError(f"{view.path} records no policy model; pass --policy (a hub id or local path)")
    settings = DropoutSettings(
        model=str(model), engine=loaded.name if loaded else (opts.engine or policy_cfg.get("engine") or "transformers"),
        start_ratio=opts.start_ratio, seed=ctx.seed, sampling=dict(opts.sampling),
    )
    config.update(settings.to_json(), chosen_from=opts.chosen_from)
    store = ContinuationStore(Path(opts.continuations) if opts.continuations else view.path / "pairs" / "dropout_ntp.jsonl",
                              settings)
    store.bind()
    config["continuations"] = str(store.path)
    plan = plan_jobs(ctx, view.problems, start_ratio=settings.start_ratio, chosen_from=opts.chosen_from)
    done = store.load()
    todo = [j for jobs in plan.values() if not isinstance(jobs, str) for j in jobs
            if j.key not in done or done[j.key].get("prefix") != j.prefix]
    if todo:
        if loaded is None:
            from tts.engines import load_engine
            from tts.preflight import check_engine

            options = engine_options(view, settings.engine, opts)
            check_engine(settings.engine, options)  # a typo in an option is one line, not a TypeError
            policy_engine = load_engine(settings.engine, settings.model, **options)
        else:
            policy_engine = loaded
        try:
            from tts.preflight import engine_preflight

            engine_preflight(None, policy_engine, settings.params())  # a server down is one line, before any job
            warnings = generate_missing(todo, store, policy_engine, ctx, batch_size=opts.batch_size,
                                        progress=opts.progress)
        finally:
            if loaded is None:
                policy_engine.close()
        ctx.report.count("generation_failures", len(warnings))
        ctx.report.warnings.extend(warnings)
        if warnings:
            log.warning("dropout-ntp: %d of %d continuations failed; first: %s", len(warnings), len(todo), warnings[0])
        done = store.load()
    return dropout_pairs(ctx, plan, done, settings)


def engine_options(view: RunView, engine: str, opts: PairOptions) -> dict[str, Any]:
    """How to load the continuing engine: the options the run's rollouts were sampled with (a server's
    ``base_url``, vLLM's ``tensor_parallel_size`` …) when it is the run's engine, then ``--device``/``--dtype``
    and ``--engine-option`` given to this command."""
    recorded = view.policy_engine if view.policy_engine.get("engine") == engine else {}
    options = dict(recorded.get("options") or {})
    options.update({k: v for k, v in (("device", opts.device), ("dtype", opts.dtype)) if v is not None})
    options.update(opts.engine_options)
    return options


def _finish(ctx: Context, problems: list[Problem], results: dict[str, list[Pair] | str]) -> list[Pair]:
    """Fill the report from per-problem results and drop cross-problem duplicates."""
    report = ctx.report
    report.problems = len(problems)
    seen: set[tuple] = set()
    kept: list[Pair] = []
    for p in problems:
        result = results.get(p.id, "no rollouts")
        if isinstance(result, str):
            report.skip(p.id, result)
            continue
        mine = []
        for pair in result:
            key = pair.dedup_key()
            if key in seen:
                report.count("duplicate_pairs")
                continue
            seen.add(key)
            mine.append(pair)
        if not mine:
            report.skip(p.id, DUPLICATED)
            continue
        report.problems_with_pairs += 1
        for pair in mine:
            report.pairs_by_kind[pair.kind] = report.pairs_by_kind.get(pair.kind, 0) + 1
        kept += mine
    return kept


def build_pairs(
    run_dir: str | Path,
    method: str = "correctness",
    *,
    seed: int = 0,
    max_pairs_per_problem: int | None = None,
    critic: str | None = None,
    aggregation: str = "mean",
    min_margin: float | None = None,
    threshold: float = 0.5,
    system_message: str | None = None,
    policy: str | Engine | None = None,
    engine: str | None = None,
    engine_options: dict[str, Any] | None = None,
    start_ratio: float = 0.5,
    chosen_from: str = "correct",
    temperature: float = DEFAULT_SAMPLING["temperature"],
    top_p: float = DEFAULT_SAMPLING["top_p"],
    top_k: int | None = DEFAULT_SAMPLING["top_k"],
    max_new_tokens: int = DEFAULT_SAMPLING["max_new_tokens"],
    continuations: str | Path | None = None,
    batch_size: int = 4,
    device: str | None = None,
    dtype: str | None = None,
    progress: bool = True,
) -> PairSet:
    """Build the preference pairs of a run with one method.

    Args:
        run_dir: a run directory with rollouts and strict grades (and critic scores for ``prm``/``step``).
        method: ``correctness``, ``prm``, ``step`` or ``dropout-ntp``.
        seed: seeds every draw (per problem and pool, so the same seed gives the same pairs).
        max_pairs_per_problem: pairs kept per problem and pool; default MMPR's 15 (3 for runs over 500k
            rollouts); for ``dropout-ntp`` the number of chosen responses continued per problem (default 1).
        critic: critic label (``scores/<critic>.jsonl``); default: the run's only critic.
        aggregation: how step scores become a rollout score (``mean`` as VisualPRM; ``min``, ``last`` …).
        min_margin: ``prm`` only: keep pairs with score(chosen) - score(rejected) >= this.
        threshold: ``step`` only: a step scored below it is a failing step.
        system_message: the system turn of TRL rows; default the policy's system message of the run.
        policy, engine, device, dtype: ``dropout-ntp`` only: the model that continues (default: the run's
            policy and engine), or an already loaded :class:`~tts.engines.Engine`.
        engine_options: ``dropout-ntp`` only: options of the continuing engine, over those the run's rollouts
            were sampled with (recorded in the manifest; used when the engine is the run's).
        start_ratio, chosen_from, temperature, top_p, top_k, max_new_tokens: ``dropout-ntp`` settings
            (InternVL's defaults).
        continuations: ``dropout-ntp`` only: the append-only continuation file (default
            ``RUN/pairs/dropout_ntp.jsonl``); rerunning resumes from it.

    Example (no model needed for ``correctness``):
        >>> pairset = build_pairs("runs/demo", "correctness", seed=0)         # doctest: +SKIP
        >>> pairset.report.problems_with_pairs, pairset.report.no_pairs.keys()  # doctest: +SKIP
    """
    name = method.replace("_", "-")
    PAIR_METHODS.get(name)  # an unknown method fails here, with suggestions
    view = load_run(run_dir, critic=critic, critic_required=name in ("prm", "step"), aggregation=aggregation,
                    system_message=system_message)
    opts = PairOptions(
        min_margin=min_margin, threshold=threshold, policy=policy, engine=engine,
        engine_options=dict(engine_options or {}), start_ratio=start_ratio,
        chosen_from=chosen_from, continuations=continuations, batch_size=batch_size, device=device, dtype=dtype,
        progress=progress,
        sampling={"temperature": temperature, "top_p": top_p, "top_k": top_k, "max_new_tokens": max_new_tokens},
    )
    return pairs_from_view(view, name, seed=seed, max_pairs_per_problem=max_pairs_per_problem, options=opts)


def pairs_from_view(view: RunView, method: str, *, seed: int = 0, max_pairs_per_problem: int | None = None,
                    options: PairOptions | None = None) -> PairSet:
    """:func:`build_pairs` on a run already read into a :class:`~tts.pairs.source.RunView`."""
    opts = options or PairOptions()
    rule = PAIR_METHODS.get(method)
    default_cap = DROPOUT_DEFAULT_CAP if method == "dropout-ntp" and max_pairs_per_problem is None else None
    cap = pair_cap(max_pairs_per_problem if default_cap is None else default_cap, rollouts=view.rollouts_total)
    ctx = Context(view, PairReport(method), seed, cap)
    config: dict[str, Any] = {
        "method": method, "run_dir": str(view.path), "seed": seed, "max_pairs_per_problem": cap,
        "critic": view.critic, "aggregation": view.aggregation if view.critic else None,
        "prompt_set": view.prompt_set, "rollouts": view.rollouts_total, "grades": "strict",
    }
    results = rule(ctx, opts, config)
    pairs = _finish(ctx, view.problems, results)
    return PairSet(str(view.path), method, tuple(pairs), ctx.report, config, view.system_message)
