"""Scoring VisualProcessBench's labelled steps with a critic, into an append-only, resumable output folder.

Output folder (its own format, not a run directory)::

    <out>/manifest.json   the settings the scores depend on (dataset sha256, critic identity, tiling), refused
                          if a later call differs; plus the critic's info and stage times
    <out>/scores.jsonl    one :class:`~tts.records.LabelledStepScores` per solution (line format: tts/records/__init__.py)
    <out>/report.json, <out>/report-f1.png, <out>/run.log

How a solution is scored — the Best-of-N conversation, with the dataset's steps as the steps:

* the question gets its images placed as the policy prompt places them (VLMEvalKit's ``reorganize_prompt``:
  ``<image>\\n`` in front for one image, ``Image-1: <image>`` lines for several); the critic sees it both as
  ``prompt`` and as ``raw`` question, since the dataset has no separate instruction;
* images are tiled as the source benchmark's Best-of-N evaluation tiles them (12 tiles for MMMU, 6 for the
  others, MMMU's first image upscaled), unless ``max_tiles`` overrides the cap;
* the steps are joined with a blank line and the critic's step cap is switched off
  (``configure(max_steps=None)``), so the critic's own split gives back exactly the dataset's steps (its
  even merge to 12 steps would pair scores with the wrong labels). A step that the blank-line split would
  cut (one containing a blank line, or a non-final one ending in a newline) has its newline runs reduced
  to one, and the record gets the flag ``steps_rewritten``; the critic's returned steps are checked against
  the steps sent, so a mismatch is recorded as unscored (``step_mismatch``), never misaligned;
* one forward per solution: the critic's own batching, several solutions per call; solutions of the same
  question and images go in one request, so the images are encoded once.

Resume: solutions are cut into fixed batches of the selection (file order); a batch with any solution
missing is scored again as a whole (same batch, same numbers) and only the missing records are written.
A batch's records are appended in one fsynced write, so ``kill -9`` loses at most the batch in flight.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.benchmarks.visualprocessbench import ImageFiles, LoadedSamples, ProcessSample, benchmark_of
from tts.critics.base import Critic, ScoringRequest
from tts.critics.steps import split_steps
from tts.errors import TTSError
from tts.jsonl import JsonlAppender, iter_jsonl, write_json_atomic
from tts.records import LabelledStepScores, StepScores

log = logging.getLogger(__name__)

SCORES_FILE = "scores.jsonl"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
SEP = "\n\n"


class CriticEvalError(TTSError, RuntimeError):
    """The output folder cannot be used as asked (other settings, another writer)."""


class OutputDir:
    """One critic evaluation's folder: one writer (a lock), settings bound once, records appended."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock: Any = None

    @property
    def scores_path(self) -> Path:
        return self.path / SCORES_FILE

    def lock(self) -> None:
        """Take the writer lock (released when the process ends, however it ends)."""
        handle = open(self.path / LOCK_FILE, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise CriticEvalError(f"{self.path} is being written by another tts critic-eval; wait for it to end") from None
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def manifest(self) -> dict[str, Any]:
        path = self.path / MANIFEST_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def bind(self, settings: dict[str, Any], info: dict[str, Any]) -> None:
        """Record ``settings`` on first use; later uses must give the same ones (the scores depend on them)."""
        manifest = self.manifest()
        old = manifest.get("settings")
        if old is not None and old != settings:
            diff = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
            detail = "; ".join(f"{k}: {json.dumps(old.get(k))} there, {json.dumps(settings.get(k))} now" for k in diff)
            raise CriticEvalError(f"{self.path} holds scores made with other settings ({detail[:400]}); "
                                  "use another --out")
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        manifest.update({"schema_version": 1, "settings": settings, "info": info, "updated": now})
        manifest.setdefault("created", now)
        write_json_atomic(self.path / MANIFEST_FILE, manifest)

    def add_time(self, stage: str, seconds: float) -> None:
        manifest = self.manifest()
        times = manifest.setdefault("seconds", {})
        times[stage] = times.get(stage, 0.0) + seconds
        write_json_atomic(self.path / MANIFEST_FILE, manifest)

    def read(self) -> list[LabelledStepScores]:
        return [LabelledStepScores.from_json(row) for row in iter_jsonl(self.scores_path)]

    def done(self) -> set[str]:
        return {r.sample_id for r in self.read()}


def critic_text(steps: Sequence[str]) -> tuple[str, tuple[str, ...], bool] | None:
    """The response text whose blank-line split gives back the steps: (text, steps sent, rewritten?).

    ``None`` when no text can (not reached by real data: the rewrite removes every cause).
    """
    text = SEP.join(steps)
    if not text.strip():  # no steps for any critic: it records the solution unscored ("empty")
        return text, tuple(steps), False
    if split_steps(text, max_steps=None) == list(steps):
        return text, tuple(steps), False
    last = len(steps) - 1
    fixed = [re.sub(r"\n{2,}", "\n", s) if i == last else re.sub(r"\n{2,}", "\n", s).rstrip("\n")
             for i, s in enumerate(steps)]
    text = SEP.join(fixed)
    if split_steps(text, max_steps=None) == fixed:
        return text, tuple(fixed), True
    return None


def align(record: StepScores, sent: Sequence[str]) -> tuple[tuple[float | None, ...], tuple[str, ...]]:
    """The critic's scores placed on the steps sent (``None`` where it gave none), and the flags to keep."""
    n = len(sent)
    if not record.scores:
        return (None,) * n, tuple(record.flags) or ("unscored", "empty")
    dropped = 0
    for flag in record.flags:
        if flag.startswith("dropped_steps:"):
            dropped = int(flag.split(":", 1)[1])
    kept = list(sent[dropped:])
    got = list(record.steps)
    if "clipped_step" in record.flags and len(got) == 1 and len(kept) == 1:
        got = kept  # the one kept step was cut from the left to fit; its score still scores it
    if got != kept:
        return (None,) * n, ("unscored", "step_mismatch")
    return (None,) * dropped + tuple(record.scores), tuple(record.flags)


def load_images(files: ImageFiles, sample: ProcessSample) -> tuple[Any, ...]:
    """RGB images as the source benchmark's Best-of-N evaluation feeds them (raises on a bad image)."""
    from tts.benchmarks import as_evaluated
    from tts.images import decode, to_rgb

    return as_evaluated([to_rgb(decode(files.read(p))) for p in sample.images], benchmark_of(sample.column))


def tiles(sample: ProcessSample, override: int | None) -> int:
    from tts.benchmarks import max_tiles

    if override is not None:
        return override
    return max_tiles(benchmark_of(sample.column) or "", len(sample.images))


@dataclass
class ScoringSummary:
    samples: int = 0  # in the selection
    written: int = 0  # records written by this call
    unscored: int = 0  # of those written, with no score at all
    failed: int = 0  # solutions the critic raised on (no record; tried again on resume)
    warnings: list[str] = field(default_factory=list)


def _record(sample: ProcessSample, critic: Critic, scores: Sequence[float | None], flags: Sequence[str],
            tokens: int | None = None) -> LabelledStepScores:
    return LabelledStepScores(sample.id, sample.source, critic.label, sample.labels, tuple(scores), tuple(flags),
                              sample.policy_model, tokens)


def score_batch(critic: Critic, batch: Sequence[ProcessSample], files: ImageFiles, *, max_tiles: int | None,
                warnings: list[str]) -> tuple[list[LabelledStepScores], int]:
    """Records for one batch (in batch order) and the number of solutions the critic failed on."""
    from tts.images import BadImage
    from tts.prompts import place_images
    from tts.stages.common import call_isolated

    records: dict[str, LabelledStepScores] = {}
    groups: dict[tuple, list[tuple[ProcessSample, tuple[str, ...], bool]]] = {}
    for sample in batch:
        made = critic_text(sample.steps)
        if made is None:
            records[sample.id] = _record(sample, critic, (None,) * len(sample.steps), ("unscored", "step_mismatch"))
            continue
        _, sent, rewritten = made
        groups.setdefault((sample.question, sample.images), []).append((sample, sent, rewritten))
    requests: list[ScoringRequest] = []
    members: list[list[tuple[ProcessSample, tuple[str, ...], bool]]] = []
    for (question, paths), group in groups.items():
        first = group[0][0]
        try:
            images = load_images(files, first)
        except (BadImage, OSError, KeyError) as exc:
            for sample, _, _ in group:
                warnings.append(f"{sample.id}: {exc}")
                records[sample.id] = _record(sample, critic, (None,) * len(sample.steps), ("unscored", "bad_image"))
            continue
        text = place_images(len(paths), question)
        responses = tuple((i, SEP.join(sent)) for i, (_, sent, _) in enumerate(group))
        requests.append(ScoringRequest(first.id, text, images, responses, max_tiles=tiles(first, max_tiles),
                                       raw_question=text))
        members.append(group)
    failed = 0
    for group, result in zip(members, call_isolated(critic.score, requests, lambda r: r.problem_id, warnings)):
        if result is None:
            failed += len(group)
            continue
        for (sample, sent, rewritten), scored in zip(group, result):
            scores, flags = align(scored, sent)
            flags = flags + (("steps_rewritten",) if rewritten else ())
            records[sample.id] = _record(sample, critic, scores, flags, scored.tokens)
    return [records[s.id] for s in batch if s.id in records], failed


def score_samples(out: OutputDir, critic: Critic, loaded: LoadedSamples, *, batch_size: int = 8,
                  max_tiles: int | None = None, progress: bool = True) -> ScoringSummary:
    """Score every selected solution that has no record yet; see the module docstring for the rules."""
    from tts.progress import progress_bar
    from tts.stages.common import after_batch, chunks

    samples = loaded.samples
    done = out.done()
    batches = [b for b in chunks(samples, batch_size) if any(s.id not in done for s in b)]
    summary = ScoringSummary(samples=len(samples))
    total = sum(len(b) for b in batches)
    with progress_bar(f"critic-eval ({critic.label})", total=total, unit="solutions", enabled=progress) as advance, \
            JsonlAppender(out.scores_path) as writer:
        for batch in batches:
            records, failed = score_batch(critic, batch, loaded.images, max_tiles=max_tiles,
                                          warnings=summary.warnings)
            new = [r for r in records if r.sample_id not in done]
            writer.write_batch(r.to_line() for r in new)
            done.update(r.sample_id for r in new)
            summary.written += len(new)
            summary.unscored += sum(not r.scored for r in new)
            summary.failed += failed
            advance(len(batch))
            after_batch()
    for message in summary.warnings:
        log.warning("%s", message)
    return summary
