"""``tts tiny DIR``: build the tiny offline checkpoints (policy and critic)."""

from __future__ import annotations

from pathlib import Path

import typer


def tiny(
    directory: Path = typer.Argument(..., help="Where to write policy/ and critic/."),
    seed: int = typer.Option(0, help="Initialisation seed (same seed, same weights)."),
) -> None:
    """Build tiny random InternVL checkpoints into DIR/policy and DIR/critic.

    Handy to smoke-test a new machine without downloading weights. Example:

        tts tiny /tmp/tiny && tts bestofn --policy /tmp/tiny/policy --critic /tmp/tiny/critic --n 4
    """
    from tts.testing import build_tiny

    ckpts = build_tiny(directory, seed=seed)
    typer.echo(f"policy: {ckpts.policy}\ncritic: {ckpts.critic}")


def register(app: typer.Typer) -> None:
    app.command("tiny")(tiny)
