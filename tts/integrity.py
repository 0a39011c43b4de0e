"""Which lines of a run's record files readers use, and why the others are ignored.

A record file can hold lines no reader should use: a second line for a key already on disk (two
processes wrote the run, or a file was concatenated), a score or grade computed from a rollout text that
has changed since (a hand-edited rollout) or that never was this run's (copied from another run: its
``text_hash`` differs), a selection made from rollout texts that have changed since, a score line in another critic's file, or a score or grade whose rollout is not in
the run (yet). :func:`scan_records` keeps the first valid line of every key and says why it ignored each
other line; :class:`tts.rundir.RunDir` reads every stage through it (so every reader, the analysis arrays
and the report's cost section included, counts each record once) and ``tts doctor`` reports its findings.

A line that is not valid JSON, or not a valid record, is damage rather than a line to skip: readers stop
with its line number (``strict=True``); ``tts doctor`` lists them all.

Example:
    >>> import tempfile, pathlib
    >>> from tts.records import Rollout
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rollouts.jsonl"
    >>> r = Rollout("p", 0, "t", "stop", 1, 1, 0.1, "m", "e")
    >>> _ = p.write_text(r.to_line() + "\\n" + r.to_line() + "\\n")
    >>> scan = scan_records(p, Rollout)
    >>> len(scan.records), [(f.line, f.kind) for f in scan.ignored]
    (1, [(2, 'duplicate')])
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from tts.jsonl import JsonlCorruption
from tts.records import DEPENDENT_TYPES, Record, RecordError, Selection, StepScores, hash_texts

R = TypeVar("R", bound=Record)

KINDS: dict[str, str] = {
    "malformed": "not valid JSON",
    "invalid": "not a valid record",
    "partial": "a partial last line (a write in flight, or a killed writer's leftover)",
    "duplicate": "a second line for a key already in the file (the first is used)",
    "foreign": "a score line of another critic in a file that holds its own critic's lines too",
    "stale": "computed from a rollout text that differs from the run's (edited since, or copied from another run)",
    "orphan": "no rollout of the run has its key, or a selection's first n rollouts are not all in the run (used once "
              "they are written with the same texts)",
}
"""Every reason a line is not used, with what it means."""

QUARANTINED = ("malformed", "invalid", "partial", "duplicate", "foreign", "stale")
"""Kinds of line ``tts doctor --repair`` moves to quarantine (orphans stay: a resume that regenerates their
rollout with the same text makes them valid again)."""


_NOT_CHECKED = object()


@dataclass(frozen=True)
class Finding:
    """One line of a record file that readers do not use."""

    file: str  # path relative to the run directory
    line: int  # 1-based line number
    kind: str  # a key of KINDS
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Scan(Generic[R]):
    """The records readers use and every line they ignore."""

    records: list[R]
    ignored: list[Finding] = field(default_factory=list)
    unchecked: int = 0  # scores/grades without ``text_hash`` (written before the field existed)

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.ignored))


def split_lines(data: bytes) -> tuple[list[bytes], bool]:
    """(complete lines, whether a partial last line follows them)."""
    lines = data.split(b"\n")
    return lines[:-1], bool(lines[-1].strip())


def scan_records(path: Path, cls: type[R], *, label: str | None = None,
                 rollouts: Mapping[tuple[str, int], str] | None = None, strict: bool = True,
                 selections: Callable[[str, int], str | None] | None = None,
                 name: str | None = None, keep: Callable[[dict[str, Any]], bool] | None = None) -> Scan[R]:
    """Read ``path`` as records of ``cls``: the first valid line of every key, plus why any other is ignored.

    ``label``: the critic label of a scores file (in a file mixing critics, lines of another are foreign). ``rollouts``: the
    run's rollout key → text hash (scores and grades are checked against it; ``None`` skips the check).
    ``selections``: (problem id, n) → the :func:`~tts.records.hash_texts` a selection of its first n rollouts
    records (:func:`selection_hashes`; ``None`` when they are not all in the run), to check selections against.
    ``strict``: raise :class:`~tts.jsonl.JsonlCorruption` at the first malformed or invalid line instead of
    reporting it. ``name``: the file's name in findings (default: the file name). ``keep``: a test on the
    parsed JSON object; other lines are skipped unparsed (e.g. only one grading rules' lines).
    """
    name = name or path.name
    scan: Scan[R] = Scan([])
    if not path.exists():
        return scan
    complete, partial = split_lines(path.read_bytes())
    parsed: list[tuple[int, R]] = []
    for lineno, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            row: Any = json.loads(raw)
        except ValueError as exc:
            if strict:
                raise JsonlCorruption(f"{path}:{lineno}: not valid JSON ({getattr(exc, 'msg', exc)})") from exc
            scan.ignored.append(Finding(name, lineno, "malformed", _short(getattr(exc, "msg", str(exc)))))
            continue
        if keep is not None and isinstance(row, dict) and not keep(row):
            continue
        try:
            parsed.append((lineno, cls.from_json(row)))
        except (RecordError, ValueError, TypeError) as exc:
            if strict:
                raise JsonlCorruption(f"{path}:{lineno}: {exc}") from exc
            scan.ignored.append(Finding(name, lineno, "invalid", _short(str(exc))))
    # A file of another label's lines (renamed or copied whole) is that critic's scores under a new name; only
    # a file that mixes critics has foreign lines: those not of its label.
    critics = {r.critic for _, r in parsed if isinstance(r, StepScores)}
    mixed = label is not None and label in critics and len(critics) > 1
    seen: set[tuple] = set()
    for lineno, rec in parsed:
        key = rec.key()
        if mixed and isinstance(rec, StepScores) and rec.critic != label:
            scan.ignored.append(Finding(name, lineno, "foreign", f"critic {rec.critic!r}"))
            continue
        wanted: object = _NOT_CHECKED
        if rollouts is not None and isinstance(rec, DEPENDENT_TYPES):
            wanted = rollouts.get((rec.problem_id, rec.sample_idx))
        elif selections is not None and isinstance(rec, Selection):
            wanted = selections(rec.problem_id, rec.n)
        if wanted is not _NOT_CHECKED:
            have = getattr(rec, "text_hash", None)
            if wanted is None:
                scan.ignored.append(Finding(name, lineno, "orphan", _key(key)))
                continue
            if have is None:
                scan.unchecked += 1
            elif have != wanted:
                scan.ignored.append(Finding(name, lineno, "stale", _key(key)))
                continue
        if key in seen:
            scan.ignored.append(Finding(name, lineno, "duplicate", _key(key)))
            continue
        seen.add(key)
        scan.records.append(rec)
    if partial:
        scan.ignored.append(Finding(name, len(complete) + 1, "partial"))
    scan.ignored.sort(key=lambda f: f.line)
    return scan


def selection_hashes(rollouts: Mapping[tuple[str, int], str]) -> Callable[[str, int], str | None]:
    """(problem id, n) → what a selection among that problem's first ``n`` rollouts records of their texts
    (``None`` while one of them is missing), from the run's rollout key → text hash."""
    by_problem: dict[str, dict[int, str]] = {}
    for (pid, idx), h in rollouts.items():
        by_problem.setdefault(pid, {})[idx] = h
    memo: dict[tuple[str, int], str | None] = {}

    def wanted(problem_id: str, n: int) -> str | None:
        if (problem_id, n) not in memo:
            hashes = by_problem.get(problem_id, {})
            memo[(problem_id, n)] = (hash_texts([hashes[i] for i in range(n)])
                                     if all(i in hashes for i in range(n)) else None)
        return memo[(problem_id, n)]

    return wanted


def _key(key: tuple) -> str:
    return "#".join(str(k) for k in key)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(counts: Mapping[str, int]) -> str:
    """``3 duplicate, 10 stale`` (kinds in the order of :data:`KINDS`)."""
    return ", ".join(f"{counts[k]} {k}" for k in KINDS if counts.get(k))
