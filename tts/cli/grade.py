"""``tts grade FILE``: grade a file of responses (ours or VLMEvalKit's), or a run directory; print accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tts.records import GRADING_RULES, GradingRules


def grade(
    file: Annotated[Path, typer.Argument(exists=True, help="Responses (JSONL, or VLMEvalKit's .xlsx/.tsv/.json predictions), or a run directory.")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the graded lines [default: FILE stem + .graded.jsonl].")] = None,
    rules: Annotated[str, typer.Option("--rules", help="strict (the right verdict) or official (published rules).")] = "strict",
    workers: Annotated[int | None, typer.Option("--workers", help="Grading processes for large files [default: CPU count].")] = None,
) -> None:
    """Grade the responses of FILE and print accuracy per benchmark.

    Each line needs `response` plus `benchmark`, `question_type` (multi_choice|free_form), `answer_type`
    (text|integer|float|list|expression), `choices`, `precision`, `unit` and `answer`; other keys are kept.
    Lines without `benchmark` are graded by generic math equivalence. VLMEvalKit's prediction files are read
    as they are (`prediction` column, the dataset's columns; the benchmark from the file name). Graded lines
    are written batch by batch; the same command resumes an interrupted file. Examples:

        tts grade responses.jsonl --rules official --out graded.jsonl
        tts grade outputs/InternVL3-8B/InternVL3-8B_MathVista_MINI.xlsx

    Given a run directory, grades its rollouts into grades.jsonl (resumable) and prints the report:

        tts grade runs/internvl3-8b-bo8 --rules official
    """
    if rules not in GRADING_RULES:
        raise typer.BadParameter("must be 'strict' or 'official'", param_hint="--rules")
    chosen: GradingRules = "official" if rules == "official" else "strict"
    if file.is_dir():
        grade_run_dir(file, chosen, workers)
        return
    from tts.grading import grade_file

    report = grade_file(file, out=out, rules=chosen, workers=workers, progress=True)
    typer.echo(report.format())


def grade_run_dir(path: Path, rules: GradingRules, workers: int | None) -> None:
    from tts.cli.render import print_report
    from tts.logs import attach_run_log
    from tts.pipeline_common import timed
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
