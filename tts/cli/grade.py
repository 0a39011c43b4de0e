"""``tts grade FILE.jsonl``: grade any JSONL of responses, print accuracy per benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def grade(
    file: Annotated[Path, typer.Argument(exists=True, help="JSONL with `response` and problem fields, or a run directory.")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the graded lines [default: FILE.graded.jsonl].")] = None,
    rules: Annotated[str, typer.Option("--rules", help="strict (the right verdict) or official (published rules).")] = "strict",
    workers: Annotated[int | None, typer.Option("--workers", help="Grading processes for large files [default: CPU count].")] = None,
) -> None:
    """Grade the responses of FILE and print accuracy per benchmark.

    Each line needs `response` plus `benchmark`, `question_type` (multi_choice|free_form), `answer_type`
    (text|integer|float|list|expression), `choices`, `precision`, `unit` and `answer`; other keys are kept.
    Lines without `benchmark` are graded by generic math equivalence. Example:

        tts grade vlmevalkit_mathvista.jsonl --rules official --out graded.jsonl

    Given a run directory, grades its rollouts into grades.jsonl (resumable) and prints the report:

        tts grade runs/internvl3-8b-bo8 --rules official
    """
    if rules not in ("strict", "official"):
        raise typer.BadParameter("must be 'strict' or 'official'", param_hint="--rules")
    if file.is_dir():
        grade_run_dir(file, rules, workers)
        return
    from tts.grading import grade_file

    report = grade_file(file, out=out, rules=rules, workers=workers, progress=True)
    typer.echo(report.format())


def grade_run_dir(path: Path, rules: str, workers: int | None) -> None:
    from tts.api import timed
    from tts.cli.render import print_report
    from tts.logs import attach_run_log
    from tts.rundir import RunDir
    from tts.stages import build_report, grade_run

    run = RunDir.open(path, create=False, write=True)
    attach_run_log(run.path)
    written = timed(run, f"grade:{rules}", grade_run, run, rules=rules, workers=workers)
    typer.echo(f"{written} grades written ({rules})")
    print_report(build_report(run, rules, curves=False), title=f"{run.path} ({rules} grading)")


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("grade", cls=renamed({"--scoring": "--rules"}))(grade)
