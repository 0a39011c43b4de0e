"""``tts critic-eval``: step-level F1 of a critic on VisualProcessBench (calls :func:`tts.critic_eval.evaluate_critic`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def critic_eval(
    critic: Annotated[str, typer.Option("--critic", help="Critic model: hub id or local path.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (scores.jsonl, report.json, report-f1.png); "
                                                    "running again resumes.")],
    critic_kind: Annotated[str, typer.Option("--critic-kind", help="Critic implementation: visualprm, "
                                             "math-shepherd, visualprm-orm (not applicable: no step scores).")]
    = "visualprm",
    critic_option: Annotated[list[str], typer.Option("--critic-option", help="Critic option key=value "
                                                     "(e.g. backend=vllm); repeatable.")] = [],  # noqa: B006
    label: Annotated[str | None, typer.Option("--critic-label", help="Name of the critic in the records.")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar="TTS_DATA_DIR",
        help="Local hub snapshots: ROOT/OpenGVLab/VisualProcessBench (default: the hub).")] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Hub revision of the dataset.")] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", help="A step is predicted correct iff its score > threshold (the paper gives none).")] = 0.5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Solutions per critic call.")] = 8,
    limit: Annotated[int | None, typer.Option("--limit", help="At most K solutions per source.")] = None,
    source: Annotated[str | None, typer.Option(
        "--source", help="Comma-separated sources: MMMU, MathVision, MathVerse-VO, DynaMath, WeMath.")] = None,
    max_tiles: Annotated[int | None, typer.Option(
        "--max-tiles", help="Image tiles per image (default: the source benchmark's Best-of-N setting).")] = None,
    device: Annotated[str | None, typer.Option("--device")] = None,
    dtype: Annotated[str, typer.Option("--dtype")] = "auto",
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad row instead of skipping it.")]
    = False,
) -> None:
    """Evaluate a critic step by step on VisualProcessBench: macro-F1 of correct and incorrect steps per
    source and overall (pooled), beside VisualPRM-8B's numbers, the best threshold and the F1 curve.

    Example (a local copy made with `huggingface-cli download --repo-type dataset OpenGVLab/VisualProcessBench
    --local-dir data/OpenGVLab/VisualProcessBench`):

        tts critic-eval --critic OpenGVLab/VisualPRM-8B-v1_1 --data-dir data --out out/vpb-visualprm
    """
    import logging

    from tts.benchmarks.base import BenchmarkError
    from tts.cli.options import key_values, split_list
    from tts.critic_eval import evaluate_critic
    from tts.critic_eval.scoring import CriticEvalError
    from tts.logs import attach_run_log
    from tts.preflight import check_critic, check_model

    options = {"device": device, "dtype": dtype, **key_values(critic_option)}
    # the critic is loaded after the whole dataset: a typo is one line now, not a traceback after the download
    check_critic(critic_kind, options)
    check_model(critic, "--critic", revision=options.get("revision"))
    log_path = attach_run_log(out)
    try:
        result = evaluate_critic(critic, out, kind=critic_kind, critic_options=options, label=label,
                                 data_dir=data_dir, revision=revision, threshold=threshold, batch_size=batch_size,
                                 limit=limit, sources=split_list(source), max_tiles=max_tiles, strict=strict)
    except (BenchmarkError, CriticEvalError) as exc:
        logging.getLogger("tts.cli").error("%s", exc, exc_info=True)
        typer.echo(f"error: {exc}\n(details: {log_path})", err=True)
        raise typer.Exit(2) from None
    typer.echo(result.table())
    if result.report["applicable"]:
        typer.echo(f"report: {result.report_path}; plot: {result.plot_path}; scores: {result.out / 'scores.jsonl'}")
    else:
        typer.echo(f"report: {result.report_path}")


def register(app: typer.Typer) -> None:
    app.command("critic-eval")(critic_eval)
