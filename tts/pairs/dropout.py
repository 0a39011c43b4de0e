"""DropoutNTP pairs: a chosen response cut in half and continued by the policy *without the image*.

MMPR (``mpo.md`` §1.4b, §2.2; InternVL ``mmpr_data_pipeline_dropout_ntp.py``): the prefix is the first half
of ``chosen.split(' ')`` (:func:`tts.pairs.rules.truncate_words`); the policy sees the prompt with every
``<image>`` placeholder removed (``prompt.replace('<image>', '').strip()``) and no image input, the prefix
pre-filled as the start of its reply; ``rejected = prefix + continuation``. Sampling follows InternVL's
defaults: temperature 0.7, top-k 50, top-p 1.0, 2048 new tokens, one continuation per chosen response.

Chosen responses are the problem's correct rollouts (``chosen_from="correct"``), or, for problems without
a gold answer, any rollout that finished normally (``chosen_from="any"``). The best-scored ones come first
when critic scores exist, otherwise a seeded draw decides; ``cap`` chosen responses per problem (default 1).
One filter InternVL lacks: a continuation that reproduces the chosen response exactly gives no pair.

Resume: continuations are appended, one durable batch at a time, to a JSONL file (default
``RUN/pairs/dropout_ntp.jsonl``) keyed by (problem, sample); a rerun generates only the missing keys. The
settings that change a continuation are stored beside it (``*.config.json``) and a rerun with other
settings is refused. Each continuation's seed depends only on (seed, problem, sample), so a resumed export
equals a clean one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.engines.base import Engine, GenerationRequest, SamplingParams, problem_seed
from tts.errors import ConfigError
from tts.jsonl import JsonlAppender, iter_jsonl, write_json_atomic
from tts.pairs.common import Context, make_pair, problem_issue, usable_samples
from tts.pairs.rules import sample_capped, seeded_rng, truncate_words
from tts.pairs.source import Sample
from tts.pairs.types import (
    GENERATION_FAILED,
    NO_CORRECT,
    NO_GOLD,
    NO_ROLLOUTS,
    SAME_TEXT,
    TOO_SHORT,
    Pair,
    Side,
)
from tts.prompts import IMAGE_PLACEHOLDER
from tts.records import Problem
from tts.rundir import ConfigConflict, config_differences
from tts.runlock import writing_into
from tts.sampling import DROPOUT_NTP_SAMPLING

DEFAULT_SAMPLING = DROPOUT_NTP_SAMPLING  # InternVL's defaults, defined once in tts.sampling (the CLI reads them)


def prompt_without_image(prompt: str) -> str:
    """The policy prompt with every image placeholder removed, as InternVL's DropoutNTP script sends it.

    >>> prompt_without_image("<image>\\nWhat is the area?\\nAnswer briefly.")
    'What is the area?\\nAnswer briefly.'
    """
    return prompt.replace(IMAGE_PLACEHOLDER, "").strip()


@dataclass(frozen=True)
class Job:
    """One chosen rollout to truncate and continue."""

    problem: Problem
    sample: Sample
    prefix: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.problem.id, self.sample.idx)


@dataclass
class DropoutSettings:
    """What decides a continuation (bound beside the continuation file)."""

    model: str
    engine: str
    start_ratio: float = 0.5
    seed: int = 0
    sampling: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SAMPLING))

    def params(self) -> SamplingParams:
        return SamplingParams(n=1, seed=self.seed, **self.sampling)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "engine": self.engine, "start_ratio": self.start_ratio, "seed": self.seed,
                "sampling": dict(self.sampling), "image": "removed"}


def continuation_seed(seed: int, problem_id: str, sample_idx: int) -> int:
    return problem_seed(seed, f"{problem_id}#{sample_idx}")


def _chosen_samples(ctx: Context, problem: Problem, chosen_from: str) -> list[Sample] | str:
    if chosen_from == "correct":
        if not problem.golds:
            return NO_GOLD
        samples = usable_samples(ctx, problem)
        if isinstance(samples, str):
            return samples
        pool = [s for s in samples if s.outcome == "correct"]
        if not pool:
            return NO_CORRECT
    elif chosen_from == "any":
        pool = [s for s in ctx.view.samples.get(problem.id, []) if s.finish_reason == "stop" and s.text.strip()]
        if not pool:
            return NO_ROLLOUTS
    else:
        raise ConfigError(f"--chosen-from (chosen_from) must be 'correct' or 'any', not {chosen_from!r}")
    if any(s.score is not None for s in pool):
        pool.sort(key=lambda s: (-(s.score if s.score is not None else float("-inf")), s.idx))
        return pool[: ctx.cap]
    drawn = sample_capped(pool, ctx.cap, seeded_rng(ctx.seed, problem.id, "dropout_ntp"))
    return sorted(drawn, key=lambda s: s.idx)


def plan_jobs(ctx: Context, problems: Sequence[Problem], *, start_ratio: float, chosen_from: str) -> dict[str, list[Job] | str]:
    """Per problem, the chosen rollouts to continue (or the reason there are none)."""
    plan: dict[str, list[Job] | str] = {}
    for p in problems:
        chosen = _chosen_samples(ctx, p, chosen_from)
        if isinstance(chosen, str):
            plan[p.id] = chosen
            continue
        issue = problem_issue(ctx, p)
        if issue:
            plan[p.id] = issue
            continue
        jobs = [Job(p, s, truncate_words(s.text, start_ratio)) for s in chosen]
        short = [j for j in jobs if not j.prefix]
        ctx.report.count("too_short_to_truncate", len(short))
        jobs = [j for j in jobs if j.prefix]
        plan[p.id] = jobs or TOO_SHORT
    return plan


class ContinuationStore:
    """The append-only continuation file and its settings file."""

    def __init__(self, path: Path, settings: DropoutSettings) -> None:
        self.path = Path(path)
        self.config_path = self.path.with_name(self.path.stem + ".config.json")
        self.settings = settings

    def bind(self) -> None:
        wanted = self.settings.to_json()
        if self.config_path.exists():
            stored = json.loads(self.config_path.read_text(encoding="utf-8"))
            diffs = config_differences(stored, wanted)
            if diffs:
                raise ConfigConflict(
                    f"{self.path} holds continuations made with other settings; refusing to mix them:\n  - "
                    + "\n  - ".join(diffs) + f"\nUse the same settings, or another continuations file (or delete {self.path})."
                )
        elif self.path.exists() and self.path.stat().st_size:
            raise ConfigConflict(f"{self.path} exists without {self.config_path.name}; delete it or choose another file")
        else:
            write_json_atomic(self.config_path, wanted)

    def load(self) -> dict[tuple[str, int], dict[str, Any]]:
        return {(row["problem_id"], int(row["sample_idx"])): row for row in iter_jsonl(self.path)}


def generate_missing(jobs: Sequence[Job], store: ContinuationStore, engine: Engine, ctx: Context, *,
                     batch_size: int = 4, progress: bool = True) -> list[str]:
    """Continue every job not yet in the store; returns warnings for jobs whose generation failed."""
    from tts.progress import progress_bar
    from tts.stages.common import after_batch, call_isolated, chunks

    params = store.settings.params()
    warnings: list[str] = []
    with progress_bar("dropout-ntp", total=len(jobs), unit="continuations", enabled=progress) as advance, \
            writing_into(ctx.view.path, store.path), JsonlAppender(store.path) as out:  # one writer per run
        for batch in chunks(list(jobs), batch_size):
            requests = [
                GenerationRequest(f"{j.problem.id}#{j.sample.idx}", prompt_without_image(ctx.view.prompt(j.problem)), (),
                                  continuation_seed(params.seed, j.problem.id, j.sample.idx), assistant_prefix=j.prefix)
                for j in batch
            ]
            results = call_isolated(lambda rs: engine.generate(rs, params), requests, lambda r: r.problem_id, warnings)
            rows = []
            for job, req, completions in zip(batch, requests, results):
                if completions is not None and (not completions or completions[0].finish_reason == "error"):
                    warnings.append(f"{req.problem_id}: the engine returned no continuation (finish_reason error)")
                if not completions or completions[0].finish_reason == "error":
                    continue
                c = completions[0]
                rows.append({"problem_id": job.problem.id, "sample_idx": job.sample.idx, "prefix": job.prefix,
                             "continuation": c.text, "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                             "completion_tokens": c.completion_tokens, "seed": req.seed})
            out.write_batch(rows)
            advance(len(batch))
            after_batch()
    return warnings


def dropout_pairs(ctx: Context, plan: dict[str, list[Job] | str], done: dict[tuple[str, int], dict[str, Any]],
                  settings: DropoutSettings) -> dict[str, list[Pair] | str]:
    """Pairs from the planned jobs and the stored continuations."""
    out: dict[str, list[Pair] | str] = {}
    for pid, jobs in plan.items():
        if isinstance(jobs, str):
            out[pid] = jobs
            continue
        pairs, reasons = [], []
        for job in jobs:
            row = done.get(job.key)
            if row is None or row.get("prefix") != job.prefix:
                reasons.append(GENERATION_FAILED)
                continue
            rejected = job.prefix + row["continuation"]
            if rejected == job.sample.text:
                ctx.report.count("continuation_equals_chosen")
                reasons.append(SAME_TEXT)
                continue
            side = Side(sample_idx=None, outcome="generated")
            details = {"prefix": job.prefix, "start_ratio": settings.start_ratio, "continuation_seed": row.get("seed"),
                       "continuation_finish_reason": row.get("finish_reason"), "policy": settings.model,
                       "image_in_continuation": False}
            pairs.append(make_pair(ctx, job.problem, "dropout_ntp", job.sample, side, rejected_text=rejected,
                                   details=details))
        out[pid] = pairs or reasons[0]
    return out
