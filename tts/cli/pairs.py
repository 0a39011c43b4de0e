"""``tts pairs``: MPO preference pairs from a run, in TRL or MMPR format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tts.sampling import DROPOUT_NTP_SAMPLING as _NTP  # InternVL's DropoutNTP sampling defaults


def pairs(
    run_dir: Path = typer.Argument(..., help="Run directory with rollouts and grades (and critic scores for prm/step)."),
    method: str = typer.Option("correctness", help="correctness | prm | step | dropout-ntp."),
    format: str = typer.Option("trl", "--format", help="trl (DPOTrainer vision dataset) | mmpr (InternVL layout)."),
    out: Path = typer.Option(..., help="Output folder (files of this method are replaced; others are kept)."),
    seed: int = typer.Option(0, help="Seeds every per-problem draw."),
    max_pairs: int | None = typer.Option(None, help="Pairs per problem and pool (default 15, 3 over 500k rollouts; "
                                                    "dropout-ntp: chosen responses per problem, default 1)."),
    critic_label: str | None = typer.Option(None, help="Whose scores to use: scores/<label>.jsonl (default: the run's "
                                                       "only critic; required for prm/step when it has several)."),
    aggregation: str = typer.Option("mean", help="Step scores → rollout score: mean | min | last | max | prod."),
    min_margin: float | None = typer.Option(None, help="prm: minimum score(chosen) - score(rejected)."),
    threshold: float = typer.Option(0.5, help="step: a step scored below this is a failing step."),
    policy: str | None = typer.Option(None, help="dropout-ntp: model that continues (default: the run's policy)."),
    engine: str | None = typer.Option(None, help="dropout-ntp: engine (default: the run's)."),
    engine_option: list[str] = typer.Option([], help="dropout-ntp: engine option key=value over the run's own "
                                                     "(e.g. base_url=http://host:8000/v1); repeatable."),
    start_ratio: float = typer.Option(0.5, help="dropout-ntp: share of words kept as the prefix."),
    chosen_from: str = typer.Option("correct", help="dropout-ntp: correct | any (problems without gold answers)."),
    temperature: float = typer.Option(_NTP["temperature"], help="dropout-ntp sampling."),
    top_p: float = typer.Option(_NTP["top_p"], help="dropout-ntp sampling."),
    top_k: int | None = typer.Option(_NTP["top_k"], help="dropout-ntp sampling."),
    max_new_tokens: int = typer.Option(_NTP["max_new_tokens"], help="dropout-ntp sampling."),
    continuations: Path | None = typer.Option(None, help="dropout-ntp: resumable continuation file "
                                                         "(default RUN_DIR/pairs/dropout_ntp.jsonl)."),
    batch_size: int = typer.Option(4, min=1, help="dropout-ntp: continuations per durable batch."),
    device: str | None = typer.Option(None, help="dropout-ntp: device (default: the run's engine options)."),
    dtype: str | None = typer.Option(None, help="dropout-ntp: dtype (default: the run's engine options, else auto)."),
) -> None:
    """Build MPO preference pairs from a run's rollouts and write them as training data.

    Example (MMPR correctness pairs as a TRL dataset, then DropoutNTP pairs in InternVL's layout):

        tts pairs runs/demo --method correctness --format trl --out pairs/demo

        tts pairs runs/demo --method dropout-ntp --format mmpr --out pairs/demo-mmpr

    DropoutNTP continues responses with the run's policy, through the engine and engine options the run was
    sampled with (a server's base_url included), unless --policy/--engine/--engine-option say otherwise.
    """
    from tts.cli.options import key_values
    from tts.logs import attach_run_log
    from tts.pairs import make_pairs
    from tts.rundir import RunDir

    run = RunDir.open(run_dir, create=False, write=True)  # one writer per run (dropout-ntp writes into it)
    attach_run_log(run.path)
    pairset, written = make_pairs(
        run_dir, method=method, format=format, out=out, seed=seed, max_pairs_per_problem=max_pairs,
        critic=critic_label, aggregation=aggregation, min_margin=min_margin, threshold=threshold, policy=policy,
        engine=engine, engine_options=key_values(engine_option), start_ratio=start_ratio, chosen_from=chosen_from,
        temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens, continuations=continuations,
        batch_size=batch_size, device=device, dtype=dtype,
    )
    print_report(pairset.report.to_json(), title=f"{pairset.method} pairs → {written.out_dir} ({format})")


def print_report(report: dict[str, Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=title)
    table.add_column("problems")
    table.add_column("count", justify="right")
    table.add_column("examples")
    table.add_row("with pairs", str(report["problems_with_pairs"]), "")
    for reason, n in report["no_pairs"].items():
        ids = report["no_pairs_problems"][reason]
        table.add_row(f"none: {reason}", str(n), ", ".join(ids[:3]) + (" …" if len(ids) > 3 else ""))
    table.add_row("total", str(report["problems"]), "")
    console.print(table)
    kinds = ", ".join(f"{k} {v}" for k, v in report["pairs_by_kind"].items()) or "none"
    console.print(f"pairs: {report['pairs']} ({kinds})")
    if report["counts"]:
        console.print("filters: " + ", ".join(f"{k} {v}" for k, v in report["counts"].items()))
    failures = report.get("warnings") or []
    if failures:
        total = report["counts"].get("generation_failures", len(failures))
        err = Console(stderr=True)
        err.print(f"[yellow]warning: {total} continuation(s) failed[/]; the first:", highlight=False)
        for line in failures[:5]:
            err.print(f"  {line}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    from tts.cli.options import renamed

    app.command("pairs", cls=renamed({"--critic": "--critic-label"}))(pairs)
