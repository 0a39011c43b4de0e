"""``tts bestofn``: sample → score → grade → select → report, resuming by default.

Every default comes from the config records (:mod:`tts.config`, :class:`tts.sampling.SamplingParams`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from tts.config import DataConfig, ModelConfig, RunConfig, SamplingParams, SelectionConfig
from tts.fields import field_default

_S, _D, _SEL = SamplingParams(), DataConfig(), SelectionConfig()


def _m(name: str) -> object:
    return field_default(ModelConfig, name)


def bestofn(
    policy: str = typer.Option(..., help="Policy model: hub id (OpenGVLab/InternVL3-8B) or local path."),
    critic: str = typer.Option(..., help="Critic model: hub id (OpenGVLab/VisualPRM-8B-v1_1) or local path."),
    n: int = typer.Option(_S.n, help="Rollouts per problem (N)."),
    benchmark: list[str] = typer.Option(list(_D.benchmarks), help="NAME[:SPLIT][@SUBSET]; repeat for several, or reasoning7."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/bestofn-<policy>-<critic>-n<N>)."),
    engine: str = typer.Option(_m("engine"), help="Policy engine: transformers, vllm or openai."),
    engine_option: list[str] = typer.Option([], help="Engine option key=value (e.g. tensor_parallel_size=4); repeatable."),
    critic_kind: str = typer.Option(_m("critic_kind"), help="Critic implementation (registered name)."),
    critic_label: str | None = typer.Option(None, help="Name of the scores file scores/<label>.jsonl (default: the critic kind)."),
    critic_option: list[str] = typer.Option([], help="Critic option key=value (e.g. max_steps=12); repeatable."),
    strategy: list[str] = typer.Option(list(_SEL.strategies), help="Selection strategy; repeatable."),
    aggregation: list[str] = typer.Option(list(_SEL.aggregations), help="Step-score aggregation (mean, min, max, last, prod); repeatable."),
    temperature: float = typer.Option(_S.temperature),
    top_p: float = typer.Option(_S.top_p),
    top_k: int | None = typer.Option(_S.top_k),
    max_new_tokens: int = typer.Option(_S.max_new_tokens),
    seed: int = typer.Option(_S.seed, help="Run seed; each problem's seed derives from it and its id."),
    first_greedy: bool = typer.Option(_S.first_greedy, help="Sample 0 greedy, the rest sampled (the reference evaluation)."),
    prompt_set: str = typer.Option(_D.prompt_set, help="Prompt set (internvl_cot or mathvista_official)."),
    limit: int | None = typer.Option(None, help="At most K problems per benchmark."),
    ids: str | None = typer.Option(None, help="Comma-separated problem ids to keep (a quick run on chosen problems)."),
    strict: bool = typer.Option(_D.strict, help="Fail on the first bad dataset row instead of skipping it."),
    shard: str | None = typer.Option(None, help="I/K: this run takes every K-th problem from index I (0-based)."),
    data_dir: Path | None = typer.Option(None, envvar="TTS_DATA_DIR", help="Local dataset root (ROOT/<org>/<name>)."),
    batch_size: int | None = typer.Option(None, help="Problems per engine call and durable batch (default: the engine's preferred size)."),
    device: str | None = typer.Option(None),
    dtype: str = typer.Option(_m("dtype")),
) -> None:
    """Best-of-N with a process reward model over one or more benchmarks.

    Example (a GPU machine; hub ids or local paths):

        tts bestofn --policy OpenGVLab/InternVL3-8B --critic OpenGVLab/VisualPRM-8B-v1_1 --n 8 --first-greedy --benchmark mathvista:testmini --out runs/mv-bo8
    """
    from tts.api import run_pipeline
    from tts.cli.options import key_values, split_list
    from tts.cli.render import print_report

    config = RunConfig(
        models=ModelConfig(policy=policy, critic=critic, engine=engine, engine_options=key_values(engine_option),
                           critic_kind=critic_kind, critic_label=critic_label,
                           critic_options=key_values(critic_option), device=device, dtype=dtype,
                           batch_size=batch_size),
        sampling=SamplingParams(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                                seed=seed, first_greedy=first_greedy),
        data=DataConfig(benchmarks=tuple(benchmark), prompt_set=prompt_set, limit=limit, ids=tuple(split_list(ids) or ()) or None,
                        strict=strict, shard=shard, data_dir=str(data_dir) if data_dir else None),
        selection=SelectionConfig(strategies=tuple(strategy), aggregations=tuple(aggregation)),
        out=str(out) if out else None,
    )
    result = run_pipeline(config)
    print_report(result.report, title=f"Best-of-{n}: {result.run_dir}", issues=result.issues)


def register(app: typer.Typer) -> None:
    app.command("bestofn")(bestofn)
