"""``tts run RECIPE``: a recipe file (or bundled recipe name) with ``--set key=value`` overrides."""

from __future__ import annotations

from pathlib import Path

import typer


def run(
    recipe: str = typer.Argument(..., help="Recipe file, or the name of a bundled recipe (see recipes/)."),
    set_: list[str] = typer.Option([], "--set", help="Override key=value (YAML-typed); repeatable."),
    limit: int | None = typer.Option(None, help="At most K problems per benchmark."),
    ids: str | None = typer.Option(None, help="Comma-separated problem ids to keep."),
    strict: bool = typer.Option(False, help="Fail on the first bad dataset row instead of skipping it."),
    out: Path | None = typer.Option(None, help="Run directory."),
    shard: str | None = typer.Option(None, help="I/K: this run takes every K-th problem from index I."),
) -> None:
    """Run a recipe; the resolved recipe is stored in the run's manifest.

    Example (the InternVL3 model card's Best-of-8 row, on a GPU machine):

        tts run internvl3-8b_visualprm-bo8 --out runs/internvl3-8b-bo8

    Smoke test on tiny checkpoints:

        tts tiny /tmp/tiny && tts run internvl3-8b_visualprm-bo8 --set policy=/tmp/tiny/policy --set critic=/tmp/tiny/critic --set n=2 --set benchmarks=[demo] --limit 1
    """
    import dataclasses

    from tts.api import run_pipeline
    from tts.cli.options import split_list
    from tts.cli.render import print_report
    from tts.config import load_recipe

    overrides = list(set_)
    overrides += [f"limit={limit}"] if limit is not None else []
    overrides += [f"out={out}"] if out is not None else []
    overrides += [f"shard={shard}"] if shard is not None else []
    config = load_recipe(recipe, overrides)
    if ids or strict:
        config = dataclasses.replace(config, ids=split_list(ids) or config.ids, strict=strict or config.strict)
    result = run_pipeline(config)
    print_report(result.report, title=f"{config.description or recipe}: {result.run_dir}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
