"""``tts demo``: the whole pipeline on tiny offline checkpoints and the bundled problems."""

from __future__ import annotations

from pathlib import Path

import typer

from tts.config import DEMO_MAX_NEW_TOKENS, DEMO_N, DEMO_OUT

GPU_HINT = (
    "tts bestofn --policy OpenGVLab/InternVL3-8B-hf --critic OpenGVLab/VisualPRM-8B-v1_1 --n 8 "
    "--benchmark reasoning7 --first-greedy"
)


def demo(
    out: Path = typer.Option(Path(DEMO_OUT), help="Run directory (resumed if it exists)."),
    n: int = typer.Option(DEMO_N, help="Rollouts per problem."),
    max_new_tokens: int = typer.Option(DEMO_MAX_NEW_TOKENS, help="Tokens per rollout."),
) -> None:
    """Sample, score, grade and select on the bundled problems with tiny random checkpoints (no download).

    Example:

        tts demo --out runs/demo --n 4
    """
    from rich.console import Console

    from tts.api import demo as run_demo
    from tts.cli.render import print_report

    result = run_demo(out, n=n, max_new_tokens=max_new_tokens)
    print_report(result.report, title=f"Demo run: {result.run_dir}", issues=result.issues)
    console = Console()
    console.print(
        "[yellow]These checkpoints are tiny and randomly initialised: they write random text, so the accuracy "
        "above is meaningless.[/] The demo shows the pipeline and its files "
        f"([bold]{result.run_dir}[/]: manifest.json, problems.jsonl, rollouts.jsonl, scores/, grades.jsonl, "
        "selections.jsonl, report.json)."
    )
    console.print(f"On a GPU machine, run the real models with:\n  [bold]{GPU_HINT}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
