"""Stage 2: critic step scores for every rollout, into ``scores/<critic label>.jsonl``.

Rollouts are scored per problem (so a critic can encode the image once for all N), ``batch_size`` problems
per critic call (so it can batch across problems up to its token budget); each call's records are
appended durably before the next. Resume: a problem whose rollouts are all scored is skipped; otherwise
all its rollouts are scored again (same batch, same numbers) and only the missing records are written.

Every record carries the :func:`~tts.records.hash_text` of the rollout text it scored, so a score whose
rollout changed since (or that was copied from another run) is ignored on reading and scored again.

``max_steps`` and ``question`` override the critic's own settings for this pass (``max_steps=0`` means no
cap); they are part of the critic's identity, so a run refuses to mix scores made with different values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from tts.critics.base import Critic, ScoringRequest
from tts.images import BadImage
from tts.progress import progress_bar
from tts.prompts import IMAGE_PLACEHOLDER, build_prompt, letters, place_images
from tts.records import Problem, Rollout, StepScores, hash_text
from tts.rundir import ConfigConflict, RunDir
from tts.stages.common import (
    after_batch,
    by_problem,
    call_isolated,
    chunks,
    load_images,
    select_problems,
    tiles_for,
)


def raw_question(problem: Problem) -> str:
    """The benchmark question (with its options) without the policy's instruction, images placed as the
    policy prompt places them: what a critic set to ``question="raw"`` sees."""
    options = "".join(f"\n{letter}. {choice}" for letter, choice in zip(letters(len(problem.choices)), problem.choices))
    text = (problem.question + options).strip()
    if text.count(IMAGE_PLACEHOLDER) >= len(problem.images):
        return text
    return place_images(len(problem.images), text)


@dataclass(frozen=True)
class ScoreSummary:
    rollouts: int
    written: int
    unscored: int
    failed_problems: int
    failures: tuple[str, ...] = ()  # "<problem id>: <reason>", the first 20
    problems: int = 0  # problems this call had to score


def score(run: RunDir, critic: Critic, problems: Sequence[Problem] | None = None, *, batch_size: int = 4,
          progress: bool = True, max_steps: int | None = None, question: str | None = None) -> ScoreSummary:
    """Score every rollout of ``problems`` (default: all) that has no score from this critic yet."""
    before_question, before_max_steps = critic.question, critic.max_steps
    critic.configure(question=question, max_steps="keep" if max_steps is None else (max_steps or None))
    try:
        run.bind(f"critics.{critic.label}", critic.identity())
    except ConfigConflict:
        critic.configure(question=before_question, max_steps=before_max_steps)  # leave the critic as it was given
        raise
    run.set_model_info(f"critic:{critic.label}", critic.info())
    prompt_cfg = run.config("prompt") or {}
    prompt_set = prompt_cfg.get("set", "internvl_cot")
    problems = select_problems(run, problems)
    rollouts = by_problem(run.read(Rollout))
    done = run.keys(StepScores, critic.label)
    todo = [p for p in problems if any(r.key() not in done for r in rollouts.get(p.id, []))]
    total = sum(len(rollouts[p.id]) for p in todo)
    written = unscored = failed = 0
    warnings: list[str] = []
    with progress_bar(f"scoring ({critic.label})", total=total, unit="rollouts", enabled=progress) as advance:
        for batch in chunks(todo, batch_size):
            requests = []
            for p in batch:
                try:
                    images = load_images(run, p)
                except BadImage as exc:
                    warnings.append(f"{p.id}: {exc}")
                    failed += 1
                    continue
                responses = tuple((r.sample_idx, r.text) for r in rollouts[p.id])
                raw = raw_question(p)
                requests.append(ScoringRequest(p.id, build_prompt(p, prompt_set), images, responses,
                                               max_tiles=tiles_for(p), raw_question=raw))
            results = call_isolated(critic.score, requests, lambda r: r.problem_id, warnings)
            records = []
            for request, scored in zip(requests, results):
                if scored is None:
                    failed += 1
                    continue
                texts = dict(request.responses)
                records += [dataclasses.replace(s, text_hash=hash_text(texts[s.sample_idx]))
                            for s in scored if s.key() not in done and s.sample_idx in texts]
            unscored += sum(not s.scored for s in records)
            written += run.append(records, critic=critic.label)
            advance(sum(len(rollouts[p.id]) for p in batch))
            after_batch()
    run.add_warnings(f"score:{critic.label}", warnings)
    run.update_stage(f"score:{critic.label}", scored=len(run.keys(StepScores, critic.label)))
    return ScoreSummary(total, written, unscored, failed, tuple(warnings[:20]), len(todo))
