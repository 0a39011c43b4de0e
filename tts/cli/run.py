"""``tts run RECIPE``: a recipe file (or bundled recipe name) with ``--set key=value`` overrides."""

from __future__ import annotations

from pathlib import Path

import typer


def run(
    recipe: str = typer.Argument(..., help="Recipe file, or the name of a bundled recipe (see recipes/)."),
    set_: list[str] = typer.Option([], "--set", help="Override a recipe key, dotted (sampling.n=2, "
                                   "models.engine_options.tensor_parallel_size=4; YAML-typed); repeatable."),
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

        tts tiny /tmp/tiny && tts run internvl3-8b_visualprm-bo8 --set models.policy=/tmp/tiny/policy --set models.critic=/tmp/tiny/critic --set sampling.n=2 --set data.benchmarks=[demo] --limit 1
    """
    import dataclasses

    from tts.api import run_pipeline
    from tts.cli.options import split_list
    from tts.cli.render import print_report
    from tts.config import load_recipe

    config = load_recipe(recipe, set_)
    data = config.data
    data = dataclasses.replace(data, limit=data.limit if limit is None else limit, ids=tuple(split_list(ids) or ()) or data.ids,
                               strict=strict or data.strict, shard=shard or data.shard)
    config = dataclasses.replace(config, data=data, out=config.out if out is None else str(out))
    result = run_pipeline(config)
    print_report(result.report, title=f"{config.description or recipe}: {result.run_dir}", issues=result.issues)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
