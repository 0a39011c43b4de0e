"""``tts label``: Monte Carlo step labels of a run's rollouts (calls :func:`tts.step_labels.label_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from tts.records import GradingRules
from tts.step_labels.settings import CONTINUATIONS, MAX_STEPS, ROLLOUTS, THRESHOLD, MCSettings

_M = MCSettings()


def label(
    run_dir: Path = typer.Argument(..., help="Run directory whose rollouts are labelled (created with --benchmark)."),
    out: Path | None = typer.Option(None, help="Label folder (default RUN_DIR/labels, under the run's writer lock; "
                                               "a folder outside the run leaves the run free for other writers)."),
    policy: str | None = typer.Option(None, help="Model that continues the prefixes: hub id or local path "
                                                 "(default: the run's policy)."),
    engine: str | None = typer.Option(None, help="transformers, vllm or openai (default: the run's engine)."),
    engine_option: list[str] = typer.Option([], help="Engine option key=value over the run's own; repeatable."),
    benchmark: list[str] = typer.Option([], help="Sample fresh rollouts of these NAME[:SPLIT] problems first, with the "
                                                 "labelling settings (temperature 1.0 …)."),
    prompt_set: str | None = typer.Option(None, help="Prompt set of fresh rollouts (default: the run's, else "
                                                     "internvl_cot)."),
    data_dir: Path | None = typer.Option(None, envvar="TTS_DATA_DIR", help="Local hub snapshots for --benchmark."),
    limit: int | None = typer.Option(None, help="At most K problems per benchmark."),
    rollouts: int = typer.Option(ROLLOUTS, help="Rollouts labelled per problem (the first K samples)."),
    continuations: int = typer.Option(CONTINUATIONS, help="Continuations per step prefix (mc = correct / K)."),
    max_steps: int = typer.Option(MAX_STEPS, help="Steps per rollout: blank-line split, evenly merged down to this."),
    early_stop: bool = typer.Option(_M.early_stop, help="Steps after an mc-0 step get 0 without rollouts."),
    threshold: float = typer.Option(THRESHOLD, help="A step is '+' iff mc > threshold."),
    rules: str = typer.Option(_M.rules, help="Grading rules of the continuations: strict or official."),
    temperature: float = typer.Option(_M.temperature),
    top_p: float = typer.Option(_M.top_p),
    top_k: int | None = typer.Option(_M.top_k),
    max_new_tokens: int = typer.Option(_M.max_new_tokens),
    seed: int = typer.Option(_M.seed, help="Seeds every step's continuations (and fresh rollouts)."),
    shard: str | None = typer.Option(None, help="I/K: label every K-th problem from index I (give each shard its own "
                                                "--out outside the run)."),
    merge: list[Path] = typer.Option([], help="Take the step estimates of these label folders (the shards) first; "
                                              "repeatable."),
    batch_size: int | None = typer.Option(None, help="Problems per engine call (default: the engine's preferred "
                                                     "batch / --rollouts)."),
    device: str | None = typer.Option(None),
    dtype: str | None = typer.Option(None),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the estimate (continuations, tokens, time) only."),
) -> None:
    """Label every step of a run's rollouts with its Monte Carlo score: K continuations of each step prefix,
    graded; a step is '+' iff some continuation is correct (VisualPRM400K's recipe and InternVL's defaults).

    Writes labels.jsonl, visualprm400k.jsonl (+ meta.json) and trl_prm.jsonl in the label folder; running the
    same command again resumes.

    Examples:

        tts label runs/mv --dry-run

        tts label runs/mv --continuations 16 --engine vllm

        tts label runs/prm-data --policy OpenGVLab/InternVL3-8B --benchmark mathvista:testmini --limit 100

    Four GPUs on one run, then one folder: tts label runs/mv --shard I/4 --out labels/shardI (I = 0..3), then
    tts label runs/mv --merge labels/shard0 --merge labels/shard1 --merge labels/shard2 --merge labels/shard3
    """
    from tts.cli.options import key_values
    from tts.logs import attach_run_log
    from tts.preflight import check_engine, check_model
    from tts.rundir import RunDir
    from tts.step_labels import label_run

    if engine is not None:  # the run's own engine and options were checked when it sampled
        check_engine(engine, key_values(engine_option))
    elif engine_option and (run_dir / "manifest.json").exists():  # options over the run's own engine
        bound = RunDir.open(run_dir, write=False).config("policy") or {}
        check_engine(bound.get("engine") or "transformers", key_values(engine_option))
    if policy is not None and engine != "openai":  # a served model name is checked by the server probe
        check_model(policy, "--policy")
    if not dry_run:
        if benchmark and not (run_dir / "manifest.json").exists():
            RunDir.open(run_dir).close()  # a fresh run: made (under its lock) before its log goes into it
        if (run_dir / "manifest.json").exists():
            attach_run_log(run_dir)

    def announce(plan) -> None:
        typer.echo(("would generate: " if dry_run else "estimate: ") + plan.describe(), err=not dry_run)

    result = label_run(
        run_dir, out, policy=policy, engine=engine, engine_options=key_values(engine_option), benchmarks=benchmark,
        prompt_set=prompt_set, data_dir=data_dir, limit=limit, rollouts=rollouts, continuations=continuations,
        max_steps=max_steps, early_stop=early_stop, threshold=threshold,
        rules=cast(GradingRules, rules),  # checked by MCSettings: one line naming the choices
        temperature=temperature,
        top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size, device=device,
        dtype=dtype, shard=shard, merge=merge, dry_run=dry_run, on_estimate=announce,
    )
    if dry_run:
        if result.skipped:
            typer.echo("not labelled: " + ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items())))
        return
    typer.echo(result.summary())
    for name, path in result.files.items():
        typer.echo(f"{name}: {path}")


def register(app: typer.Typer) -> None:
    app.command("label")(label)
