"""``tts search``: step-level search guided by the critic → grade → select → report, resuming by default.

Every default comes from the config records (:mod:`tts.config`, :class:`tts.sampling.SamplingParams`); a
search option not given is left to :class:`tts.search.SearchSettings` (the one home of its default; not
read here, so ``tts --help`` imports nothing heavy). The command builds a :class:`~tts.config.RunConfig`
with a ``search`` record and calls :func:`tts.api.run_pipeline` (:func:`tts.search.pipeline.search_pipeline`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from tts.config import DataConfig, ModelConfig, SamplingParams, SelectionConfig
from tts.fields import field_default

_S, _D = SamplingParams(), DataConfig()


def _m(name: str) -> object:
    return field_default(ModelConfig, name)


SEARCH_STRATEGIES = ("best_of_n", "weighted_vote", "majority", "oracle", "random")


def search(
    policy: str = typer.Option(..., help="Policy model: hub id (OpenGVLab/InternVL3-8B) or local path."),
    critic: str = typer.Option(..., help="Critic model: hub id (OpenGVLab/VisualPRM-8B-v1_1) or local path."),
    algorithm: str = typer.Option("beam", help="beam, dvts, step_greedy, particle_filter or best_of_n."),
    n: int = typer.Option(16, help="N: candidates (beam, dvts), particles, samples; k for step_greedy."),
    beam_width: int | None = typer.Option(None, help="M: continuations per beam (beam), per subtree step (dvts); default 4."),
    aggregation: str | None = typer.Option(None, help="How step scores rank a partial solution: last (default), mean, min, prod, max."),
    max_steps: int | None = typer.Option(None, help="Iterations (default 40); the last writes every path to its end."),
    max_step_tokens: int | None = typer.Option(None, help="Policy tokens per step (default: only the solution cap)."),
    token_budget: int | None = typer.Option(None, help="Policy tokens per problem, everything generated counted (default: none)."),
    lookahead: int | None = typer.Option(None, help="Greedy steps rolled out before scoring (beam, dvts, step_greedy; default 0)."),
    filter_duplicates: bool | None = typer.Option(None, "--filter-duplicates/--keep-duplicates",
                                                  help="Drop beams whose text repeats an earlier one (default: keep)."),
    sort_completed: bool | None = typer.Option(None, "--sort-completed/--completion-order",
                                               help="Completed beams best first (default: in completion order)."),
    final_answer: str | None = typer.Option(None, help="Regex: a step matching it ends its path (default \\boxed{; '' for none)."),
    particle_temperature: float | None = typer.Option(None, help="particle_filter: softmax(weight / T) resampling (default 1)."),
    particle_weight: str | None = typer.Option(None, help="particle_filter: logit (its_hub, default) or score."),
    resampling: str | None = typer.Option(None, help="particle_filter: systematic (default) or multinomial."),
    stepwise: bool | None = typer.Option(None, "--stepwise/--whole", help="best_of_n: write each sample step by step."),
    benchmark: list[str] = typer.Option(list(_D.benchmarks), help="NAME[:SPLIT][@SUBSET]; repeat for several, or reasoning7."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/search-<algorithm>-<policy>-<critic>-n<N>)."),
    engine: str = typer.Option(_m("engine"), help="Policy engine: transformers, vllm or openai (a vLLM server)."),
    engine_option: list[str] = typer.Option([], help="Engine option key=value (e.g. base_url=http://host:8000/v1); repeatable."),
    critic_kind: str = typer.Option(_m("critic_kind"), help="Critic implementation (registered name)."),
    critic_label: str | None = typer.Option(None, help="Name of the scores file scores/<label>.jsonl (default: the critic kind)."),
    critic_option: list[str] = typer.Option([], help="Critic option key=value (e.g. backend=vllm); repeatable."),
    strategy: list[str] = typer.Option(list(SEARCH_STRATEGIES), help="Selection strategy among the candidates; repeatable."),
    temperature: float = typer.Option(_S.temperature, help="Policy sampling temperature of every step."),
    top_p: float = typer.Option(_S.top_p),
    top_k: int | None = typer.Option(_S.top_k),
    max_new_tokens: int = typer.Option(_S.max_new_tokens, help="Policy tokens of one solution."),
    seed: int = typer.Option(_S.seed, help="Run seed; each problem's and node's seed derives from it."),
    prompt_set: str = typer.Option(_D.prompt_set, help="Prompt set (internvl_cot or mathvista_official)."),
    limit: int | None = typer.Option(None, help="At most K problems per benchmark."),
    ids: str | None = typer.Option(None, help="Comma-separated problem ids to keep."),
    shard: str | None = typer.Option(None, help="I/K: this run takes every K-th problem from index I (0-based)."),
    data_dir: Path | None = typer.Option(None, envvar="TTS_DATA_DIR", help="Local dataset root (ROOT/<org>/<name>)."),
    batch_size: int | None = typer.Option(None, help="Problems searched in lockstep (default: 16 transformers, 256 vLLM, 64 server)."),
    device: str | None = typer.Option(None),
    dtype: str = typer.Option(_m("dtype")),
) -> None:
    """Step-level search guided by the critic: every problem's candidates, graded, selected and reported.

    Example (a GPU machine; both models loaded together):

        tts search --policy OpenGVLab/InternVL3-8B --critic OpenGVLab/VisualPRM-8B-v1_1 --algorithm beam --n 16 --beam-width 4 --benchmark mathvista:testmini --engine vllm --critic-option backend=vllm

    Then compare with a Best-of-N run at the same N: tts compare runs/search-beam-... runs/bestofn-...
    """
    from tts.api import run_pipeline
    from tts.cli.options import key_values, split_list
    from tts.cli.render import print_report
    from tts.config import RunConfig
    from tts.search.config import SearchConfig

    given = dict(beam_width=beam_width, aggregation=aggregation, max_steps=max_steps, max_step_tokens=max_step_tokens,
                 token_budget=token_budget, lookahead=lookahead, filter_duplicates=filter_duplicates,
                 sort_completed=sort_completed, final_answer=final_answer, temperature=particle_temperature,
                 particle_weight=particle_weight, resampling=resampling, stepwise=stepwise)
    options: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    if final_answer == "":
        options["final_answer"] = None  # no final-answer rule
    config = RunConfig(
        models=ModelConfig(policy=policy, critic=critic, engine=engine, engine_options=key_values(engine_option),
                           critic_kind=critic_kind, critic_label=critic_label,
                           critic_options=key_values(critic_option), device=device, dtype=dtype,
                           batch_size=batch_size),
        sampling=SamplingParams(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                                seed=seed),
        data=DataConfig(benchmarks=tuple(benchmark), prompt_set=prompt_set, limit=limit,
                        ids=tuple(split_list(ids) or ()) or None, shard=shard,
                        data_dir=str(data_dir) if data_dir else None),
        selection=SelectionConfig(strategies=tuple(strategy), aggregations=(aggregation or "last",)),
        search=SearchConfig(algorithm, options),
        out=str(out) if out else None,
    )
    result = run_pipeline(config)
    print_report(result.report, title=f"{algorithm} search, N={n}: {result.run_dir}")
    print_search_cost(result.report)


def print_search_cost(report: dict) -> None:
    """One line per algorithm: what the search cost per problem (report.json's ``search`` section)."""
    for algorithm, section in (report.get("search") or {}).items():
        mean = section["mean"]
        typer.echo(f"{algorithm}: {section['problems']} problems; per problem {mean['policy_tokens']:.0f} policy tokens, "
                   f"{mean['critic_tokens']:.0f} critic tokens, {mean['proposer_calls']:.1f} engine calls, "
                   f"{mean['scorer_calls']:.1f} critic calls, {mean['policy_seconds'] + mean['critic_seconds']:.2f} s "
                   f"(stopped: {', '.join(f'{k} {v}' for k, v in sorted(section['stopped'].items()))})")


def register(app: typer.Typer) -> None:
    app.command("search")(search)
