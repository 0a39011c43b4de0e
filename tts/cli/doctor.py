"""``tts doctor RUN``: report what is wrong with a run directory; ``--repair`` sets the damage aside."""

from __future__ import annotations

from pathlib import Path

import typer


def doctor(
    run_dir: Path = typer.Argument(..., help="Run directory to check."),
    repair: bool = typer.Option(False, "--repair", help="Move bad lines (and corrupt images) to RUN/quarantine/, "
                                "remove temporary files of interrupted writes; takes the writer lock."),
    break_lock: bool = typer.Option(False, "--break-lock", help="Set aside a lock left by a process that is gone "
                                    "(a crashed node of a shared file system); refused while it runs here."),
) -> None:
    """Check a run directory: malformed or duplicate lines (with line numbers), stale or foreign scores and
    grades, temporary files, missing images, unfinished stages, and who writes it now. Exit status 1 while
    damage remains.

    Example (a garbage line in the middle of rollouts.jsonl, then the resume that regenerates it):

        tts doctor runs/bo8 --repair && tts run internvl3-8b_visualprm-bo8 --out runs/bo8
    """
    from tts.doctor import doctor as check

    report = check(run_dir, repair=repair, break_stale_lock=break_lock)
    for line in report.lines():
        typer.echo(line)
    if report.damaged:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
