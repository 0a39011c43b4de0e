"""``tts select RUN_DIR``: apply selection strategies to stored rollouts (resumable)."""

from __future__ import annotations

from pathlib import Path

import typer


def select(
    run_dir: Path = typer.Argument(..., help="Run directory (made by tts bestofn)."),
    critic_label: str | None = typer.Option(None, help="Whose scores to use: scores/<label>.jsonl (default: the run's "
                                                       "only critic; required when it has several)."),
    strategy: list[str] = typer.Option(["best_of_n"], help="Strategy; repeat for several."),
    aggregation: list[str] = typer.Option(["mean"], help="mean|min|max|last|prod; repeat for several."),
    n: int | None = typer.Option(None, min=1, help="Select among the first N samples (default: all)."),
) -> None:
    """Write selections.jsonl records: the rollout each strategy picks per problem.

    Example:

        tts select runs/bestofn-InternVL3-8B-VisualPRM-8B-n8 --critic-label visualprm --strategy majority --strategy weighted_vote --aggregation min
    """
    from tts.labels import pick_critic
    from tts.logs import attach_run_log
    from tts.rundir import RunDir
    from tts.stages.select import select_run

    run = RunDir.open(run_dir, create=False, write=True)
    attach_run_log(run.path)
    critic = pick_critic(run, critic_label)
    written = select_run(run, critic, strategies=strategy, aggregations=aggregation, n=n, progress=True)
    incomplete = (run.manifest.get("stages", {}).get("select") or {}).get("incomplete", 0)
    typer.echo(select_message(written, incomplete, run.path))


def select_message(written: int, incomplete: int, run_path: Path) -> str:
    """What a ``tts select`` did: records written, or up to date, or waiting for incomplete problems.

    >>> select_message(0, 0, Path("runs/x"))
    'selections up to date (runs/x/selections.jsonl has every one asked for); see their accuracy with: tts report runs/x'
    """
    target = run_path / "selections.jsonl"
    if written:
        done = f"wrote {written} selections to {target}"
    elif incomplete:
        done = f"no selection written: {incomplete} problem(s) lack rollouts, grades or scores (see the warning above)"
    else:
        done = f"selections up to date ({target} has every one asked for)"
    return f"{done}; see their accuracy with: tts report {run_path}"


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("select", cls=renamed({"--critic": "--critic-label"}))(select)
