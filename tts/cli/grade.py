"""``tts grade FILE.jsonl``: grade any JSONL of responses, print accuracy per benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def grade(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL with `response` and problem fields.")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the graded lines [default: FILE.graded.jsonl].")] = None,
    scoring: Annotated[str, typer.Option("--scoring", help="strict (the right verdict) or official (published rules).")] = "strict",
    workers: Annotated[int | None, typer.Option("--workers", help="Grading processes for large files [default: CPU count].")] = None,
) -> None:
    """Grade the responses of FILE and print accuracy per benchmark.

    Each line needs `response` plus `benchmark`, `question_type` (multi_choice|free_form), `answer_type`
    (text|integer|float|list|expression), `choices`, `precision`, `unit` and `answer`; other keys are kept.
    Lines without `benchmark` are graded by generic math equivalence. Example:

        tts grade vlmevalkit_mathvista.jsonl --scoring official --out graded.jsonl
    """
    if scoring not in ("strict", "official"):
        raise typer.BadParameter("must be 'strict' or 'official'", param_hint="--scoring")
    from tts.grading import grade_file

    report = grade_file(file, out=out, scoring=scoring, workers=workers, progress=True)
    typer.echo(report.format())


def register(app: typer.Typer) -> None:
    app.command("grade")(grade)
