"""``tts merge SHARD_DIR... --out DIR``: join the run directories of a sharded run."""

from __future__ import annotations

from pathlib import Path

import typer


def merge(
    shards: list[Path] = typer.Argument(..., help="Shard run directories (made with --shard I/K)."),
    out: Path = typer.Option(..., help="The merged run directory (must not exist)."),
    partial: bool = typer.Option(False, help="Merge an incomplete set of shards (to look at results early)."),
) -> None:
    """Merge shards into one run directory with a fresh report.

    Example (4 Slurm array tasks wrote runs/bo8-shard0of4 … runs/bo8-shard3of4):

        tts merge runs/bo8-shard*of4 --out runs/bo8
    """
    from tts.cli.render import print_report
    from tts.logs import attach_run_log
    from tts.stages.merge import merge_runs
    from tts.stages.report import build_report

    merged = merge_runs(shards, out, partial=partial)
    attach_run_log(merged.path)
    several = len(merged.critics()) > 1  # the curves need one critic: tts report OUT --critic-label LABEL
    print_report(build_report(merged, curves=not several), title=f"Merged {len(shards)} shards: {merged.path}")
    if several:
        typer.echo(f"curves: tts report {merged.path} --critic-label LABEL (one of {', '.join(merged.critics())})")


def register(app: typer.Typer) -> None:
    app.command("merge")(merge)
