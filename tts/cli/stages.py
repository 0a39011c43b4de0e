"""Stage commands over a run directory: ``tts sample`` and ``tts score`` (any critic, again and again).

``tts grade``, ``tts select``, ``tts report`` and ``tts pairs`` live in their own modules.
"""

from __future__ import annotations

from pathlib import Path

import typer

from tts.config import CRITIC_BATCH_SIZE, DataConfig, ModelConfig, SamplingParams
from tts.fields import field_default

_S, _D = SamplingParams(), DataConfig()


def sample(
    run_dir: Path = typer.Argument(..., help="Run directory (created if missing)."),
    policy: str = typer.Option(..., help="Policy model: hub id or local path."),
    n: int = typer.Option(_S.n, help="Rollouts per problem."),
    benchmark: list[str] = typer.Option([], help="Add these NAME[:SPLIT] problems first; default: the run's problems."),
    engine: str = typer.Option(field_default(ModelConfig, "engine"), help="transformers, vllm or openai."),
    engine_option: list[str] = typer.Option([], help="Engine option key=value; repeatable."),
    temperature: float = typer.Option(_S.temperature),
    top_p: float = typer.Option(_S.top_p),
    top_k: int | None = typer.Option(_S.top_k),
    max_new_tokens: int = typer.Option(_S.max_new_tokens),
    seed: int = typer.Option(_S.seed),
    first_greedy: bool = typer.Option(_S.first_greedy, help="Sample 0 greedy, the rest sampled."),
    prompt_set: str = typer.Option(_D.prompt_set),
    limit: int | None = typer.Option(None, help="At most K problems per benchmark."),
    data_dir: Path | None = typer.Option(None, envvar="TTS_DATA_DIR"),
    batch_size: int | None = typer.Option(None, help="Problems per engine call (default: the engine's preferred size)."),
) -> None:
    """Generate the missing rollouts of a run.

    Example:

        tts sample runs/mv --policy OpenGVLab/InternVL3-8B --n 8 --first-greedy --benchmark mathvista:testmini
    """
    from tts.cli.options import key_values
    from tts.cli.render import print_issues
    from tts.engines import load_engine
    from tts.logs import attach_run_log
    from tts.pipeline_common import StageIssues, problem_issues, record_policy_engine, timed
    from tts.preflight import check_engine, check_model, engine_preflight, forget_unwritten_settings, loading
    from tts.rundir import RunDir
    from tts.stages import add_problems
    from tts.stages import sample as sample_stage

    params = SamplingParams(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                            seed=seed, first_greedy=first_greedy)
    options = key_values(engine_option)
    check_engine(engine, options)  # before the run directory is touched
    unchecked = check_model(policy, "--policy") if engine != "openai" else None
    run = RunDir.open(run_dir)
    attach_run_log(run.path)
    run.add_warnings("preflight", [unchecked] if unchecked else [])
    forget_unwritten_settings(run, benchmark or None)
    problems = add_problems(run, benchmark, data_dir=data_dir, limit=limit) if benchmark else None
    if problems is not None:
        print_issues([i for i in [problem_issues(run)] if i is not None])
    with loading("--policy", policy):
        eng = load_engine(engine, policy, **options)
    try:
        checked = engine_preflight(run, eng, params)
        summary = timed(run, "sample", sample_stage, run, eng, params, problems, prompt_set=prompt_set,
                        batch_size=batch_size)
    finally:
        eng.close()
    record_policy_engine(run, engine, options)  # the run accepted this engine (the stage bound it)
    issues = [StageIssues("preflight", "warnings before sampling", len(checked), len(checked), tuple(checked))]
    if summary.failed:
        issues.append(StageIssues("sample", "problems failed to sample (left unsampled; run the command again to "
                                  "retry them)", summary.failed, summary.attempted, summary.failures))
    print_issues([i for i in issues if i.count])
    typer.echo(f"{summary.written} rollouts written ({summary.skipped_done} problems already done, "
               f"{summary.failed} failed) in {run.path}")


def score(
    run_dir: Path = typer.Argument(..., help="Run directory with rollouts."),
    critic: str = typer.Option(..., help="Critic model: hub id or local path."),
    critic_kind: str = typer.Option(field_default(ModelConfig, "critic_kind"), help="Critic implementation (registered name)."),
    critic_label: str | None = typer.Option(None, help="Name of the scores file scores/<label>.jsonl (default: the critic kind)."),
    critic_option: list[str] = typer.Option([], help="Critic option key=value (e.g. max_steps=12); repeatable."),
    batch_size: int = typer.Option(CRITIC_BATCH_SIZE, min=1, help="Problems per critic call and durable batch."),
    device: str | None = typer.Option(None),
    dtype: str = typer.Option(field_default(ModelConfig, "dtype")),
) -> None:
    """Score every rollout of a run with a critic (resumable; one run can hold several critics' scores).

    Example:

        tts score runs/mv --critic OpenGVLab/VisualPRM-8B-v1_1 --critic-label visualprm-v1_1
    """
    from tts.cli.options import key_values
    from tts.critics import load_critic
    from tts.logs import attach_run_log
    from tts.pipeline_common import timed
    from tts.preflight import check_critic, check_model, loading
    from tts.rundir import RunDir
    from tts.stages import score as score_stage

    options = {"device": device, "dtype": dtype, **key_values(critic_option)}
    check_critic(critic_kind, options)
    run = RunDir.open(run_dir, create=False, write=True)
    attach_run_log(run.path)
    run.add_warnings("preflight", [w for w in [check_model(critic, "--critic", revision=options.get("revision"))] if w])
    with loading("--critic", critic):
        scorer = load_critic(critic_kind, critic, label=critic_label, **options)
    try:
        summary = timed(run, f"score:{scorer.label}", score_stage, run, scorer, batch_size=batch_size)
    finally:
        scorer.close()
    if summary.failed_problems:
        from tts.cli.render import print_issues
        from tts.pipeline_common import StageIssues
        from tts.stages.sample import StageFailed, all_failed_message

        if summary.failed_problems == summary.problems:
            raise StageFailed(all_failed_message(f"scoring with {scorer.label}", summary.failed_problems,
                                                 summary.failures))
        print_issues([StageIssues(f"score:{scorer.label}", "problems failed to score (run the command again to "
                                  "retry them)", summary.failed_problems, summary.problems, summary.failures)])
    typer.echo(f"{summary.written} scores written to {run.file('scores', scorer.label)} "
               f"({summary.unscored} unscored, {summary.failed_problems} problems failed)")


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("sample")(sample)
    app.command("score", cls=renamed({"--label": "--critic-label"}))(score)
