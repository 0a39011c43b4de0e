"""``tts bestofn``: sample → score → grade → select → report, resuming by default."""

from __future__ import annotations

from pathlib import Path

import typer


def bestofn(
    policy: str = typer.Option(..., help="Policy model: hub id (OpenGVLab/InternVL3-8B-hf) or local path."),
    critic: str = typer.Option(..., help="Critic model: hub id (OpenGVLab/VisualPRM-8B-v1_1) or local path."),
    n: int = typer.Option(8, help="Rollouts per problem (N)."),
    benchmark: list[str] = typer.Option(["demo"], help="NAME[:SPLIT]; repeat for several."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/bestofn-<policy>-<critic>-n<N>)."),
    engine: str = typer.Option("transformers", help="Policy engine."),
    critic_kind: str = typer.Option("visualprm", help="Critic implementation."),
    temperature: float = typer.Option(0.7),
    top_p: float = typer.Option(0.95),
    top_k: int | None = typer.Option(None),
    max_new_tokens: int = typer.Option(4096),
    seed: int = typer.Option(0),
    first_greedy: bool = typer.Option(False, help="Sample 0 greedy, the rest sampled (the reference evaluation)."),
    limit: int | None = typer.Option(None, help="At most K problems per benchmark."),
    data_dir: Path | None = typer.Option(None, envvar="TTS_DATA_DIR", help="Local dataset root (ROOT/<org>/<name>)."),
    batch_size: int = typer.Option(4, help="Problems per durable batch."),
    device: str | None = typer.Option(None),
    dtype: str = typer.Option("auto"),
) -> None:
    """Best-of-N with a process reward model.

    Example (a GPU machine; hub ids or local paths):

        tts bestofn --policy OpenGVLab/InternVL3-8B-hf --critic OpenGVLab/VisualPRM-8B-v1_1 --n 8 --benchmark mathvista:testmini
    """
    from tts.api import bestofn as run_bestofn
    from tts.cli.render import print_accuracy

    result = run_bestofn(
        policy, critic, n=n, benchmarks=benchmark, out=out, engine=engine, critic_kind=critic_kind,
        temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens, seed=seed,
        first_greedy=first_greedy, limit=limit, data_dir=data_dir, batch_size=batch_size, device=device, dtype=dtype,
    )
    print_accuracy(result.report, title=f"Best-of-{n}: {result.run_dir}")


def register(app: typer.Typer) -> None:
    app.command("bestofn")(bestofn)
