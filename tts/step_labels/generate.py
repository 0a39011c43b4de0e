"""Continuing step prefixes with the policy, grading the continuations, journaling each step's mc estimate.

One engine call per batch of problems (per round with early stop): every pending step prefix of every selected
rollout of those problems is one :class:`~tts.engines.GenerationRequest` with ``n = K`` — the policy prompt the
rollout was sampled with, the problem's images, the prefix as ``assistant_prefix`` and the step's own seed.
The engine reuses what the requests share: vLLM's prefix cache holds the prompt (and the image) once for all
prefixes of a problem and the K continuations of a prefix share their prompt blocks; the transformers engine
encodes a request's images once for its K rows, and once per problem for the whole call where the engine keeps
image encodings between requests (``Engine.image_cache``, used when the engine has it).

Each continuation is graded as InternVL grades it: the prefix and the continuation together (the final answer is
usually in the continuation). Grades use a :class:`~tts.grading.Grader` session (worker processes kept for the
whole call); with the ``official`` rules each step is graded in its own call with the grader's random stream
reseeded from the step's seed, so MMMU's seeded random fallback letter does not depend on batching.

Results are appended to the journal as the engine yields them (a few dozen step prefixes per durable write), so a
kill loses at most the prefixes in flight; a prefix whose generation failed is left out (with a warning) and
asked again by the next call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from tts.engines.base import Completion, Engine, GenerationRequest
from tts.records import Grade, MCStep, Problem, hash_text
from tts.rundir import RunDir
from tts.step_labels.plan import Selection, Target, Unit, next_round
from tts.step_labels.settings import MCSettings
from tts.step_labels.store import LabelFolder

log = logging.getLogger(__name__)

FLUSH_UNITS = 32
"""Step prefixes graded and journaled per durable write."""
EARLY_STOP_FLAG = "early_stop"


class GraderLike(Protocol):
    """What labelling needs of a grader (:class:`tts.grading.Grader`, or a scripted one in tests)."""

    def grade(self, items: Sequence[tuple[str, Problem, int]]) -> list[Grade]: ...


@dataclass
class Cost:
    """What one label call spent."""

    continuations: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    steps: int = 0  # step prefixes labelled with continuations
    settled: int = 0  # steps set to 0 by early stop, without continuations
    engine_calls: int = 0
    failed: int = 0  # step prefixes whose generation failed (asked again by the next call)
    engine_seconds: float = 0.0
    grading_seconds: float = 0.0
    seconds: float = 0.0  # wall time of the whole call
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("warnings")
        return out

    def describe(self) -> str:
        return (f"{self.continuations} continuations, {self.tokens} generated tokens ({self.prompt_tokens} prompt "
                f"tokens) in {self.seconds:.1f} s ({self.engine_seconds:.1f} s generating, "
                f"{self.grading_seconds:.1f} s grading, {self.engine_calls} engine calls)")


@dataclass
class Batch:
    """One batch of problems: their rollouts to label and what every request of theirs carries."""

    targets: list[Target]
    prompts: dict[str, str]
    images: dict[str, tuple[Any, ...]]
    tiles: dict[str, int | None]


def digest(texts: Sequence[str]) -> str:
    """First 16 hex digits of the SHA-256 of the continuation texts (order matters)."""
    return hash_text(json.dumps(list(texts), ensure_ascii=False))


def settled_step(target: Target, step_idx: int) -> MCStep:
    """A step early stop sets to 0 without rollouts (InternVL: score 0, num_mc_total 0)."""
    return MCStep(target.problem.id, target.rollout.sample_idx, step_idx, len(target.steps), 0, 0,
                  text_hash=target.rollout.text_hash, flags=(EARLY_STOP_FLAG,))


def step_record(unit: Unit, completions: Sequence[Completion], grades: Sequence[Grade]) -> MCStep:
    t = unit.target
    return MCStep(
        t.problem.id, t.rollout.sample_idx, unit.step_idx, len(t.steps), correct=sum(bool(g.correct) for g in grades),
        total=len(completions), cut=sum(c.finish_reason == "length" for c in completions),
        tokens=sum(c.completion_tokens for c in completions), prompt_tokens=completions[0].prompt_tokens,
        seconds=round(sum(c.seconds for c in completions), 4), seed=unit.seed,
        digest=digest([c.text for c in completions]), text_hash=t.rollout.text_hash,
    )


def grade_units(grader: GraderLike, finished: Sequence[tuple[Unit, Sequence[Completion]]], rules: str) -> list[list[Grade]]:
    """Grades of every continuation (prefix + continuation), per unit."""
    def items(unit: Unit, completions: Sequence[Completion]) -> list[tuple[str, Problem, int]]:
        return [(unit.prefix + c.text, unit.target.problem, j) for j, c in enumerate(completions)]

    if rules == "official":  # MMMU's fallback letters: a stream per step, not per batch
        out = []
        for unit, completions in finished:
            if hasattr(grader, "rng"):
                grader.rng = random.Random(unit.seed)
            out.append(grader.grade(items(unit, completions)))
        return out
    flat = [item for unit, completions in finished for item in items(unit, completions)]
    grades = grader.grade(flat)
    out, at = [], 0
    for _, completions in finished:
        out.append(grades[at : at + len(completions)])
        at += len(completions)
    return out


def _usable(out_completions: Sequence[Completion], k: int) -> bool:
    return len(out_completions) == k and all(c.finish_reason != "error" for c in out_completions)


def image_cache(engine: Engine) -> contextlib.AbstractContextManager[Any]:
    """The engine's per-problem image cache where it has one (``Engine.image_cache``), else nothing."""
    cache = getattr(engine, "image_cache", None)
    return cache() if callable(cache) else contextlib.nullcontext()


def label_batch(batch: Batch, done: dict[tuple, MCStep], engine: Engine, grader: GraderLike, settings: MCSettings,
                write: Callable[[list[MCStep]], None], cost: Cost, advance: Callable[[int], None]) -> None:
    """Label every pending step of the batch's rollouts (rounds only with early stop); journal as it goes."""
    with image_cache(engine):  # a problem's images encoded once for all its rounds, where the engine can
        _label_rounds(batch, done, engine, grader, settings, write, cost, advance)


def _label_rounds(batch: Batch, done: dict[tuple, MCStep], engine: Engine, grader: GraderLike, settings: MCSettings,
                  write: Callable[[list[MCStep]], None], cost: Cost, advance: Callable[[int], None]) -> None:
    params = settings.params()
    k = settings.continuations
    failed: set[tuple] = set()
    while True:
        units, settled = next_round(batch.targets, done, seed=settings.seed, early_stop=settings.early_stop,
                                    failed=failed)
        if settled:
            records = [settled_step(t, step) for t, step in settled]
            write(records)
            done.update((r.key(), r) for r in records)
            cost.settled += len(records)
        if not units:
            return
        requests = [GenerationRequest(u.target.problem.id, batch.prompts[u.target.problem.id],
                                      batch.images[u.target.problem.id], u.seed, assistant_prefix=u.prefix,
                                      max_tiles=batch.tiles[u.target.problem.id]) for u in units]
        cost.engine_calls += 1
        buffer: list[tuple[Unit, Sequence[Completion]]] = []
        started = time.perf_counter()
        for out in engine.stream(requests, params):
            unit = units[out.index]
            if out.error or not _usable(out.completions, k):
                failed.add(unit.key)
                cost.failed += 1
                why = out.error or f"{len(out.completions)} of {k} continuations, or a failed one"
                cost.warnings.append(f"{unit.target.problem.id}#{unit.target.rollout.sample_idx} step {unit.step_idx}: {why}")
                advance(k)
                continue
            buffer.append((unit, out.completions))
            if len(buffer) >= FLUSH_UNITS:
                cost.engine_seconds += time.perf_counter() - started
                _flush(buffer, done, grader, settings, write, cost, advance)
                buffer, started = [], time.perf_counter()
        cost.engine_seconds += time.perf_counter() - started
        _flush(buffer, done, grader, settings, write, cost, advance)


def _flush(buffer: list[tuple[Unit, Sequence[Completion]]], done: dict[tuple, MCStep], grader: GraderLike,
           settings: MCSettings, write: Callable[[list[MCStep]], None], cost: Cost, advance: Callable[[int], None]) -> None:
    if not buffer:
        return
    started = time.perf_counter()
    grades = grade_units(grader, buffer, settings.rules)
    cost.grading_seconds += time.perf_counter() - started
    records = [step_record(unit, completions, g) for (unit, completions), g in zip(buffer, grades)]
    write(records)
    done.update((r.key(), r) for r in records)
    for record in records:
        cost.steps += 1
        cost.continuations += record.total
        cost.tokens += record.tokens
        cost.prompt_tokens += record.prompt_tokens
    advance(sum(r.total for r in records))


def batches(targets: Sequence[Target], size: int) -> list[list[Target]]:
    """Targets cut into batches of ``size`` problems (a problem's rollouts stay together)."""
    out: list[list[Target]] = []
    current: list[Target] = []
    problems: list[str] = []
    for t in targets:
        if t.problem.id not in problems:
            if len(problems) == size:
                out.append(current)
                current, problems = [], []
            problems.append(t.problem.id)
        current.append(t)
    if current:
        out.append(current)
    return out


def label_targets(run: RunDir, folder: LabelFolder, selection: Selection, done: dict[tuple, MCStep], engine: Engine,
           grader: GraderLike | None, settings: MCSettings, prompt_set: str, *, batch_size: int | None,
           rollouts: int, workers: int | None, total: int, progress: bool) -> Cost:
    """Every pending step of the selection, one engine call per batch of problems (per round with early stop)."""
    from tts.images import BadImage
    from tts.interrupts import on_interrupt
    from tts.progress import progress_bar
    from tts.prompts import build_prompt
    from tts.stages.common import after_batch, load_images, tiles_for

    size = batch_size or max(1, engine.preferred_batch_size // rollouts)
    cost = Cost()
    started = time.perf_counter()
    todo = [t for t in selection.targets if any(t.step_key(k) not in done for k in range(len(t.steps)))]
    written = [0]
    forget = on_interrupt(lambda: f"saved in {folder.path}: {written[0]} step estimates this call "
                                  f"({len(done)} in all); the same command resumes")
    owned = None
    if grader is None:
        from tts.grading import Grader

        owned = grader = Grader(settings.rules, workers, expected=total)
    try:
        with progress_bar("labelling", total=total, unit="continuations", enabled=progress) as advance, \
                folder.appender() as journal:
            def write(records: list[MCStep]) -> None:
                folder.append(journal, records)
                written[0] += len(records)

            for group in batches(todo, size):
                batch = Batch(group, {}, {}, {})
                usable = []
                for t in group:
                    p = t.problem
                    if p.id not in batch.prompts:
                        try:
                            batch.images[p.id] = load_images(run, p)
                        except BadImage as exc:
                            cost.warnings.append(f"{p.id}: {exc}")
                            continue
                        batch.prompts[p.id] = build_prompt(p, prompt_set)
                        batch.tiles[p.id] = tiles_for(p)
                    if p.id in batch.prompts:
                        usable.append(t)
                batch.targets = usable
                label_batch(batch, done, engine, grader, settings, write, cost, advance)
                after_batch()
    finally:
        forget()
        if owned is not None:
            owned.close()
        cost.seconds = time.perf_counter() - started
    for message in cost.warnings[:20]:
        log.warning("%s", message)
    return cost


__all__ = ["Batch", "Cost", "GraderLike", "batches", "digest", "grade_units", "label_batch", "label_targets",
           "settled_step", "step_record"]
