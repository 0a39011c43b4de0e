"""Stage 1: N policy rollouts per problem, written per small batch of problems.

Resume: a problem with all N rollouts on disk is skipped; a problem with some missing (the batch in flight
when a run was killed) is regenerated from its seed and only the missing samples are written, so the
finished run equals a clean one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tts.engines.base import Engine, GenerationRequest, SamplingParams, problem_seed
from tts.images import BadImage
from tts.progress import progress_bar
from tts.prompts import PROMPT_SETS, build_prompt
from tts.records import Problem, Rollout
from tts.rundir import RunDir
from tts.stages.common import after_batch, call_isolated, chunks, load_images, select_problems, tiles_for


@dataclass(frozen=True)
class SampleSummary:
    problems: int
    skipped_done: int
    written: int
    failed: int


def bind_sampling(run: RunDir, engine: Engine, params: SamplingParams, prompt_set: str) -> None:
    run.bind("policy", engine.identity())
    run.bind("sampling", params.to_json())
    run.bind("prompt", {"set": prompt_set, "fingerprint": PROMPT_SETS.get(prompt_set).fingerprint()})
    run.set_model_info("policy", engine.info())


def sample(run: RunDir, engine: Engine, params: SamplingParams, problems: Sequence[Problem] | None = None, *,
           prompt_set: str = "internvl_cot", batch_size: int = 4, progress: bool = True) -> SampleSummary:
    """Generate the missing rollouts of ``problems`` (default: all problems of the run)."""
    bind_sampling(run, engine, params, prompt_set)
    problems = select_problems(run, problems)
    done: dict[str, set[int]] = {}
    for pid, idx in run.keys(Rollout):
        done.setdefault(pid, set()).add(idx)
    todo = [p for p in problems if len(done.get(p.id, ())) < params.n]
    written = failed = 0
    warnings: list[str] = []
    with progress_bar("sampling", total=len(todo) * params.n, unit="rollouts", enabled=progress) as advance:
        for batch in chunks(todo, batch_size):
            requests, kept = [], []
            for p in batch:
                try:
                    images = load_images(run, p)
                except BadImage as exc:
                    warnings.append(f"{p.id}: {exc}")
                    failed += 1
                    continue
                requests.append(GenerationRequest(p.id, build_prompt(p, prompt_set), images, problem_seed(params.seed, p.id),
                                                  max_tiles=tiles_for(p)))
                kept.append(p)
            results = call_isolated(lambda rs: engine.generate(rs, params), requests, lambda r: r.problem_id, warnings)
            records = []
            for p, completions in zip(kept, results):
                if completions is None:
                    failed += 1
                    continue
                have = done.get(p.id, set())
                for c in completions:
                    if c.sample_idx in have or c.sample_idx >= params.n:
                        continue
                    records.append(Rollout(
                        problem_id=p.id, sample_idx=c.sample_idx, text=c.text, finish_reason=c.finish_reason,  # type: ignore[arg-type]
                        prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens, seconds=c.seconds,
                        model=engine.model_id, engine=engine.name, seed=problem_seed(params.seed, p.id), flags=c.flags,
                    ))
            written += run.append(records)
            advance(len(batch) * params.n)
            after_batch()
    run.add_warnings("sample", warnings)
    run.update_stage("sample", problems=len(problems), rollouts=len(run.keys(Rollout)))
    return SampleSummary(len(problems), len(problems) - len(todo), written, failed)

