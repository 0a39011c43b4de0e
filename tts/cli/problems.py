"""``tts problems SPEC --out FILE``: write a benchmark's problems with their rendered prompts as JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tts.config import DataConfig

_D = DataConfig()


def problems(
    spec: Annotated[str, typer.Argument(
        help="NAME, NAME:SPLIT or NAME:SPLIT@SUBSET,... (e.g. mmmu:validation@Math), or the group reasoning7.")],
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write; images go to images/ next to it.")],
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar="TTS_DATA_DIR",
        help="Local hub snapshots at ROOT/<org>/<name> (default: load from the hub).")] = None,
    prompt_set: Annotated[str, typer.Option("--prompt-set", help="Prompt set to render.")] = _D.prompt_set,
    limit: Annotated[int | None, typer.Option("--limit", help="At most K problems (per benchmark for a group).")] = None,
    ids: Annotated[str | None, typer.Option("--ids", help="Comma-separated problem ids to keep.")] = None,
    subset: Annotated[str | None, typer.Option(
        "--subset", help="Comma-separated subsets (MMMU subjects, MathVerse versions, or all).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad row instead of skipping it.")] = False,
) -> None:
    """Write problem records, each with its rendered `prompt` and `n_images`, decoding every image.

    This is how you see exactly what the model will be asked. Example, from a local snapshot made with
    `huggingface-cli download --repo-type dataset AI4Math/MathVista --local-dir data/AI4Math/MathVista`:

        tts problems mathvista:testmini --data-dir data --limit 20 --out /tmp/mathvista.jsonl

    A run directory gets its problems from the stage commands instead (tts sample RUN --benchmark …).
    """
    from tts.benchmarks.export import export_problems
    from tts.cli.options import split_list
    from tts.progress import dataset_progress

    with dataset_progress() as progress:
        summary = export_problems(spec, out, data_dir=data_dir, prompt_set=prompt_set, limit=limit,
                                  ids=split_list(ids), strict=strict, subset=split_list(subset), progress=progress)
    for message in summary.warnings:
        typer.echo(f"warning: {message}", err=True)
    skipped = f", skipped {len(summary.warnings)} bad row(s)" if summary.warnings else ""
    typer.echo(f"wrote {summary.n_problems} problems to {summary.path}{skipped}")


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("problems", cls=renamed({"--prompt": "--prompt-set"}))(problems)
