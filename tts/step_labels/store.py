"""The label folder: bound settings, the append-only journal of step estimates, and the files made from it.

Layout (``RUN/labels/`` by default, or any ``--out`` folder)::

    settings.json        what the mc scores depend on (refused if a later call differs) and the models' info
    mc_steps.jsonl       one MCStep per (problem, sample, step): the journal a call resumes from
    labels.jsonl         one StepLabels per fully labelled rollout (rewritten from the journal by every call)
    visualprm400k.jsonl  VisualPRM400K's training conversations (the critic's conversation, ``+``/``-`` replies)
    meta.json            InternVL's data meta entry for that file (``root`` is the run directory: images by path)
    trl_prm.jsonl        TRL's stepwise-supervision rows (``prompt``, ``completions``, ``labels``, ``images``)
    report.json          counts, skipped rollouts and why, the label balance, the cost (this call's, and all
                         journaled steps' summed from the journal, killed calls included)
    .lock                the writer lock, when the folder is outside the run (inside, the run's lock is held)

The journal is the only record stream; everything else is derived from it and replaced atomically, so a call
killed at any point leaves at most a partial last journal line, which the next writer sets aside.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tts.errors import TTSError
from tts.jsonl import JsonlAppender, JsonlCorruption, iter_jsonl, repair_tail, write_json_atomic
from tts.manifest import normalise
from tts.records import MCStep, RecordError

SETTINGS_FILE = "settings.json"
JOURNAL_FILE = "mc_steps.jsonl"
LABELS_FILE = "labels.jsonl"
CONVERSATIONS_FILE = "visualprm400k.jsonl"
META_FILE = "meta.json"
TRL_FILE = "trl_prm.jsonl"
REPORT_FILE = "report.json"
SCHEMA_VERSION = 1


class LabelError(TTSError, RuntimeError):
    """The label folder cannot be used as asked (other settings, another run, a damaged journal)."""


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<unset>"), new.get(key, "<unset>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            lines += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            lines.append(f"{prefix}{key}: the labels were made with {a!r}, this call asks for {b!r}")
    return lines


class LabelFolder:
    """One label folder on disk. The caller holds the writer lock while it writes (see :mod:`tts.step_labels.api`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL_FILE

    def settings(self) -> dict[str, Any]:
        path = self.file(SETTINGS_FILE)
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LabelError(f"{path}: unreadable ({exc}); restore it or choose another --out") from exc
        if not isinstance(data, dict):
            raise LabelError(f"{path}: not a label folder's settings (a JSON object expected); choose another --out")
        return data

    def check(self, bound: Mapping[str, Any]) -> None:
        """Refuse (one :class:`LabelError` naming every difference) when the stored settings differ on any
        section of ``bound``; stores nothing."""
        stored = self.settings().get("bound", {})
        diffs = _differences({k: stored[k] for k in bound if k in stored},
                             {k: normalise(v) for k, v in bound.items() if k in stored})
        if diffs:
            raise LabelError(f"{self.path} holds labels made with other settings; refusing to mix them:\n  - "
                             + "\n  - ".join(diffs) + "\nUse the same settings, or another --out.")

    def check_same(self, bound: Mapping[str, Any]) -> None:
        """Refuse to take steps from this folder (:func:`~tts.step_labels.api.label_run`'s ``merge``) unless it
        labels the same run with the same settings (the run's path may differ: shards write outside the run)."""
        stored = self.settings().get("bound")
        if not stored:
            raise LabelError(f"{self.path} is not a label folder (no settings.json with bound settings)")
        wanted = normalise(dict(bound))
        keys = ("mc", "prompt", "policy")
        diffs = _differences({k: stored.get(k) for k in keys}, {k: wanted.get(k) for k in keys})
        if stored.get("run", {}).get("created") != wanted.get("run", {}).get("created"):
            diffs.append("run.created: the folder labels another run")
        if diffs:
            raise LabelError(f"{self.path} cannot be merged: " + "; ".join(diffs))

    def clean(self) -> None:
        """As the folder's single writer: remove temporary files of atomic writes a killed call left."""
        from tts.jsonl import is_temporary

        if self.path.is_dir():
            for f in self.path.iterdir():
                if f.is_file() and is_temporary(f):
                    f.unlink()

    def bind(self, bound: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> None:
        """Store ``bound`` on first use (later calls must match, :meth:`check`) and refresh ``info``."""
        self.check(bound)
        data = self.settings()
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        data.setdefault("schema_version", SCHEMA_VERSION)
        data.setdefault("created", now)
        data["updated"] = now
        data["bound"] = {**data.get("bound", {}), **normalise(dict(bound))}
        if info:
            data["info"] = {**data.get("info", {}), **normalise(dict(info))}
        self.path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.file(SETTINGS_FILE), data)

    def read_journal(self, text_hashes: Mapping[tuple[str, int], str]) -> tuple[dict[tuple, MCStep], dict[str, int]]:
        """The usable journal lines by key, and the count of lines ignored by reason.

        A line is used when its rollout is among ``text_hashes`` with the same text hash (a line of an edited or
        foreign rollout is *stale*, and that step is labelled again) and it is the first usable line of its key
        (*duplicate* otherwise). Lines of rollouts not asked for now are *other* (kept, not used).
        """
        done: dict[tuple, MCStep] = {}
        ignored: dict[str, int] = {}
        try:
            rows = list(iter_jsonl(self.journal_path))
        except JsonlCorruption as exc:
            raise LabelError(f"{exc}; move the damaged line out of {self.journal_path} (its step is labelled "
                             "again), then run the same command") from exc
        for row in rows:
            try:
                step = MCStep.from_json(row)
            except RecordError as exc:
                raise LabelError(f"{self.journal_path}: {exc}; move that line out, then run the same command") from exc
            expected = text_hashes.get((step.problem_id, step.sample_idx))
            if expected is None:
                reason = "other"
            elif step.text_hash is not None and step.text_hash != expected:
                reason = "stale"
            elif step.key() in done:
                reason = "duplicate"
            else:
                done[step.key()] = step
                continue
            ignored[reason] = ignored.get(reason, 0) + 1
        return done, ignored

    def appender(self) -> JsonlAppender:
        """The journal's appender. A partial last line (a killed writer's) is set aside first, its bytes kept in
        ``quarantine/``: nothing is deleted."""
        self.path.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        repair_tail(self.journal_path, keep=self.path / "quarantine" / f"{stamp}-partial-{JOURNAL_FILE}")
        return JsonlAppender(self.journal_path, repair=False)

    def append(self, writer: JsonlAppender, steps: Iterable[MCStep]) -> int:
        return writer.write_batch([s.to_line() for s in steps])


__all__ = ["LabelError", "LabelFolder"]
