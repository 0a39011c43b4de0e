"""``tts doctor RUN``: everything wrong with a run directory, and with ``--repair`` one command to fix it.

What it reports: a manifest that cannot be used; every record line readers ignore or cannot read, with its
line number (not valid JSON, not a valid record, a partial last line, a duplicate key, a score or grade
computed from another rollout text, a score line of another critic: :mod:`tts.integrity`); temporary files
left by interrupted atomic writes; missing or corrupt images; stages that are not finished; scores files
the run never bound; and who is writing the run right now.

``repair=True`` takes the writer lock (so it is refused while another command writes the run), moves every
bad line to ``RUN/quarantine/<time>-<pid>/<file>`` (the raw bytes, with ``reasons.jsonl`` saying which
line of which file each was and why) and rewrites the file without them, atomically. Nothing is deleted:
corrupt images go to the quarantine folder too; only the temporary files of failed atomic writes (partial
copies of files that are complete elsewhere or rewritten by the next command) are removed. The next
command then resumes: it computes again what was set aside (a stale score, a lost rollout) from the same
seeds. A missing image cannot be rebuilt here; running the command that made the run again restores it.

Reading takes no lock and changes nothing.

Example:
    >>> report = doctor("runs/demo")                    # doctest: +SKIP
    >>> print("\\n".join(report.lines()))                # doctest: +SKIP
    >>> doctor("runs/demo", repair=True).damaged         # doctest: +SKIP
    False
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.integrity import KINDS, QUARANTINED, Finding, Scan, scan_records, selection_hashes, split_lines
from tts.jsonl import is_temporary, write_bytes_atomic
from tts.records import Grade, Problem, Record, Rollout, Selection, StepScores
from tts.rundir import RunDir, RunDirError, load_manifest
from tts.runlock import acquire, break_lock, holder

SHOWN_PER_KIND = 20
"""Findings listed per file and kind (all are counted)."""

_DIGEST_NAME = re.compile(r"^([0-9a-f]{24})\.[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Issue:
    """One thing ``tts doctor`` found. ``damage``: wrong data (the exit status is 1 while any remains);
    otherwise information (an unfinished stage, an old record without a text hash, a writer at work)."""

    kind: str
    where: str
    detail: str = ""
    damage: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class DoctorReport:
    run: Path
    issues: list[Issue] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    quarantine: Path | None = None

    @property
    def damaged(self) -> bool:
        return any(i.damage for i in self.issues)

    def to_json(self) -> dict[str, Any]:
        return {"run": str(self.run), "damaged": self.damaged, "repaired": self.repaired,
                "quarantine": str(self.quarantine) if self.quarantine else None,
                "issues": [{"kind": i.kind, "where": i.where, "detail": i.detail, "damage": i.damage}
                           for i in self.issues]}

    def lines(self) -> list[str]:
        """The report for a terminal: repairs, then issues (at most SHOWN_PER_KIND per file and kind)."""
        out = [f"repaired: {r}" for r in self.repaired]
        shown: Counter[tuple[str, str]] = Counter()
        hidden: Counter[tuple[str, str]] = Counter()
        for issue in self.issues:
            group = (issue.where.split(":")[0], issue.kind)
            if shown[group] < SHOWN_PER_KIND:
                shown[group] += 1
                out.append(("damage: " if issue.damage else "note: ") + str(issue))
            else:
                hidden[group] += 1
        out += [f"damage: {where}: … and {n} more {kind} line(s)" for (where, kind), n in hidden.items()]
        damage = [i for i in self.issues if i.damage]
        if not damage:
            out.append(f"{self.run}: no damage found" + (" after the repair" if self.repaired else ""))
        else:
            counts = Counter(i.kind for i in damage)
            fixable = sum(n for k, n in counts.items() if k in QUARANTINED or k in ("temporary", "corrupt_image"))
            what = ", ".join(f"{n} {k}" for k, n in counts.items())
            hint = f"; run `tts doctor {self.run} --repair`" if fixable and not self.repaired else ""
            out.append(f"{self.run}: {what}{hint}")
        return out


def doctor(path: str | Path, *, repair: bool = False, break_stale_lock: bool = False) -> DoctorReport:
    """Check a run directory (read-only) or, with ``repair``, quarantine what is bad and check again.

    ``break_stale_lock``: first set aside a lock whose holder is gone (:func:`tts.runlock.break_lock`).
    """
    path = Path(path)
    if not path.is_dir():
        raise RunDirError(f"{path} is not a directory")
    report = DoctorReport(path)
    if break_stale_lock:
        owner = break_lock(path)
        report.repaired.append(f"set aside the lock of {owner.describe()}" if owner else "the lock was free: nothing to break")
    if not repair:
        report.issues = _check(path)
        return report
    load_manifest(path / "manifest.json")  # a broken manifest is reported as one line; nothing to repair without it
    with acquire(path):
        _repair(path, _check(path, locked=True), report)
        report.issues = _check(path, locked=True)
    return report


# ---------------------------------------------------------------------------------------------- checks
def _check(path: Path, *, locked: bool = False) -> list[Issue]:
    issues: list[Issue] = []
    if not locked:
        owner = holder(path)
        if owner is not None:
            issues.append(Issue("writer", str(path), f"being written by {owner.describe()}; findings may change "
                                "(a partial last line may be a write in flight)", damage=False))
    try:
        manifest = load_manifest(path / "manifest.json")
    except RunDirError as exc:
        issues.append(Issue("manifest", "manifest.json", str(exc)))
        manifest = {}
    run = RunDir(path, manifest)
    scans = _scan_all(run)
    for name, scan in scans.items():
        orphans = [f for f in scan.ignored if f.kind == "orphan"]
        for f in scan.ignored:
            if f.kind != "orphan":
                issues.append(Issue(f.kind, f"{f.file}:{f.line}", f.detail or KINDS[f.kind]))
        if orphans:
            issues.append(Issue("orphan", name, f"{len(orphans)} line(s) (first: line {orphans[0].line}) whose rollout "
                                "is not in the run; unused until it is written with the same text", damage=False))
        if scan.unchecked:
            issues.append(Issue("unchecked", name, f"{scan.unchecked} line(s) written before text hashes existed: "
                                "cannot be checked against their rollout", damage=False))
    bound = set((manifest.get("config") or {}).get("critics") or {})
    for label in run.critics():
        if manifest and label not in bound:
            issues.append(Issue("unbound_scores", f"scores/{label}.jsonl", "no command of this run made it (no "
                                "config.critics entry); reports use it only when asked with --critic", damage=False))
    issues += _temporary_files(path)
    problems = scans["problems.jsonl"].records if "problems.jsonl" in scans else []
    issues += _images(run, problems)
    issues += _incomplete(run, manifest, scans)
    return issues


def _scan_all(run: RunDir) -> dict[str, Scan[Any]]:
    """Every record file scanned leniently (damage reported, not raised), scores, grades and selections against
    the rollouts that readers use."""
    rollouts = scan_records(run.file("rollouts"), Rollout, strict=False)
    hashes = {r.key(): r.text_hash for r in rollouts.records}
    files: list[tuple[str, type[Record], str | None]] = [
        ("problems.jsonl", Problem, None), ("grades.jsonl", Grade, None), ("selections.jsonl", Selection, None),
    ] + [(f"scores/{label}.jsonl", StepScores, label) for label in run.critics()]
    scans: dict[str, Scan[Any]] = {"rollouts.jsonl": rollouts} if run.file("rollouts").exists() else {}
    for name, cls, label in files:
        p = run.path / name
        if p.exists():
            scans[name] = scan_records(p, cls, label=label, rollouts=hashes if cls in (StepScores, Grade) else None,
                                       selections=selection_hashes(hashes) if cls is Selection else None,
                                       strict=False, name=name)
    return scans


def _temporary_files(path: Path) -> list[Issue]:
    out = []
    for folder in (path, path / "images", path / "scores"):
        if folder.is_dir():
            for f in sorted(folder.iterdir()):
                if f.is_file() and (is_temporary(f) or f.name.startswith(".filelock-probe-")):
                    out.append(Issue("temporary", str(f.relative_to(path)), "left by an interrupted write"))
    return out


def _images(run: RunDir, problems: list[Problem]) -> list[Issue]:
    out = []
    checked: dict[Path, str | None] = {}
    for p in problems:
        for ref in p.images:
            f = run.resolve(ref)
            if f not in checked:
                checked[f] = _image_problem(f)
            if checked[f] is not None:
                kind = "missing_image" if checked[f] == "missing" else "corrupt_image"
                fix = ("run the command that made the run again (its problems stage stores missing images)"
                       if kind == "missing_image" else checked[f])
                out.append(Issue(kind, ref, f"problem {p.id}; {fix}"))
    return out


def _image_problem(f: Path) -> str | None:
    if not f.is_file():
        return "missing"
    data = f.read_bytes()
    if not data:
        return "empty file"
    m = _DIGEST_NAME.match(f.name)
    if m and hashlib.sha256(data).hexdigest()[:24] != m.group(1):
        return "its bytes do not match its content-addressed name"
    return None


def _incomplete(run: RunDir, manifest: dict[str, Any], scans: dict[str, Scan[Any]]) -> list[Issue]:
    """Unfinished stages (information: the same command again finishes them)."""
    problems = scans.get("problems.jsonl")
    rollouts = scans.get("rollouts.jsonl")
    if problems is None or not problems.records:
        return []
    n = int(((manifest.get("config") or {}).get("sampling") or {}).get("n") or 0)
    have: Counter[str] = Counter(r.problem_id for r in (rollouts.records if rollouts else []))
    out = []
    if n:
        short = [p.id for p in problems.records if have[p.id] < n]
        if short:
            out.append(Issue("incomplete", "sample", f"{len(short)} of {len(problems.records)} problem(s) have fewer "
                             f"than {n} rollouts (first: {short[0]})", damage=False))
    keys = {r.key() for r in rollouts.records} if rollouts else set()
    if not keys:
        return out
    for label in run.critics():
        scan = scans.get(f"scores/{label}.jsonl")
        missing = len(keys - {s.key() for s in scan.records}) if scan else len(keys)
        if missing:
            out.append(Issue("incomplete", f"score:{label}", f"{missing} rollout(s) not scored", damage=False))
    grades = scans.get("grades.jsonl")
    by_rules: dict[str, set[tuple]] = defaultdict(set)
    for g in grades.records if grades else []:
        by_rules[g.rules].add((g.problem_id, g.sample_idx))
    for rules in sorted(set(by_rules) | {"strict"}):
        missing = len(keys - by_rules[rules])
        if missing and (rules in by_rules or (manifest.get("stages") or {}).get(f"grade:{rules}")):
            out.append(Issue("incomplete", f"grade:{rules}", f"{missing} rollout(s) not graded", damage=False))
    pending = ((manifest.get("stages") or {}).get("select") or {}).get("incomplete")
    if pending:
        out.append(Issue("incomplete", "select", f"{pending} problem(s) not selected yet", damage=False))
    return out


# ---------------------------------------------------------------------------------------------- repair
def _repair(path: Path, issues: list[Issue], report: DoctorReport) -> None:
    stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    folder = path / "quarantine" / stamp
    bad: dict[str, dict[int, Issue]] = defaultdict(dict)
    for issue in issues:
        if issue.kind in QUARANTINED:
            name, _, line = issue.where.rpartition(":")
            bad[name][int(line)] = issue
    reasons: list[dict[str, Any]] = []
    for name, lines in sorted(bad.items()):
        moved = _quarantine_lines(path / name, lines, folder / name)
        reasons += [{"file": name, "line": n, "kind": lines[n].kind if n in lines else "partial",
                     "detail": lines[n].detail if n in lines else ""} for n in moved]
        kinds = Counter(lines[n].kind if n in lines else "partial" for n in moved)
        report.repaired.append(f"{name}: moved {len(moved)} line(s) ({', '.join(f'{v} {k}' for k, v in kinds.items())}) "
                               f"to {folder / name}")
    for issue in issues:
        f = path / issue.where
        if issue.kind == "temporary" and f.is_file():
            f.unlink()
            report.repaired.append(f"{issue.where}: removed (the temporary file of an interrupted write)")
        elif issue.kind == "corrupt_image" and f.is_file():
            target = folder / issue.where
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
            reasons.append({"file": issue.where, "line": None, "kind": issue.kind, "detail": issue.detail})
            report.repaired.append(f"{issue.where}: moved to {target} (the command that made the run stores it again)")
    if reasons:
        with open(folder / "reasons.jsonl", "ab") as out:
            out.write(b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"
                               for r in reasons))
            out.flush()
            os.fsync(out.fileno())
        report.quarantine = folder


def _quarantine_lines(path: Path, lines: dict[int, Issue], target: Path) -> list[int]:
    """Append the numbered lines of ``path`` to ``target`` (fsynced), then rewrite ``path`` without them
    (a partial last line always goes: written back it would become a damaged line)."""
    data = path.read_bytes()
    complete, partial = split_lines(data)
    raw = [*complete, *([data.rsplit(b"\n", 1)[-1]] if partial else [])]
    drop = {n for n in lines if 1 <= n <= len(raw)} | ({len(raw)} if partial else set())
    moved = sorted(drop)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "ab") as out:
        out.write(b"".join(raw[n - 1] + b"\n" for n in moved))
        out.flush()
        os.fsync(out.fileno())
    write_bytes_atomic(path, b"".join(line + b"\n" for i, line in enumerate(raw, start=1) if i not in drop))
    return moved


__all__ = ["DoctorReport", "Finding", "Issue", "doctor"]
