"""The run directory: one folder per run holding every stage's append-only records and a manifest.

Layout of ``runs/<name>/``::

    manifest.json          schema version, full config, package/model versions, created/updated times
    problems.jsonl         Problem records (images referenced under images/)
    images/                the problems' images, content-addressed
    rollouts.jsonl         Rollout records
    scores/<critic>.jsonl  StepScores records, one file per critic label
    grades.jsonl           Grade records
    selections.jsonl       Selection records
    report.json            the latest report (rewritten atomically; not a record stream)
    run.log                warnings and tracebacks of the commands that wrote the run
    .lock                  the writer lock; while held, who holds it (see tts.runlock)
    quarantine/            lines and files ``tts doctor --repair`` (or a writer's tail repair) set aside

Why this shape: generation is expensive and crashes happen, so every stage appends durable records and a
restarted command skips every key already on disk. A resumed run must not silently mix settings, so each
stage *binds* its identity config (model, n, temperature, prompt, …) into the manifest, and a later command
with a different value is refused with a message naming the difference.

Writers and readers: ``RunDir.open(path)`` (``create=True``) or ``RunDir.open(path, write=True)`` opens a
run for writing: it takes the run's writer lock (:mod:`tts.runlock`; a second writer is refused naming the
first), then sets aside a partial last line a killed writer left and removes temporary files of failed
atomic writes. ``RunDir.open(path, create=False)`` opens it for reading: no lock, and not a byte changes,
so a notebook or ``tts report`` can look at a run while it is written. Every read goes through
:func:`tts.integrity.scan_records`: duplicates, stale or foreign scores and grades are ignored (and
reported once), so nothing is counted twice.

Example:
    >>> import tempfile
    >>> run = RunDir.open(tempfile.mkdtemp() + "/demo")
    >>> run.bind("sampling", {"n": 8, "temperature": 0.7})
    >>> run.bind("sampling", {"n": 4, "temperature": 0.7})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ConfigConflict: ... sampling.n: the run has 8, this command asks for 4 ...
    >>> run.close()
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tts.integrity import Scan, scan_records, selection_hashes, summary
from tts.jsonl import JsonlAppender, JsonlCorruption, is_temporary, repair_tail, write_json_atomic
from tts.logs import release_log_space, reserve_log_space
from tts.manifest import (
    ConfigConflict,
    ReadOnlyRun,
    RunDirError,
    config_differences,
    load_manifest,
    new_manifest,
    normalise,
    package_versions,
    utc_now,
)
from tts.records import Grade, Problem, Record, Rollout, Selection, StepScores
from tts.runlock import LOCK_NAME, RunBusy, WriterLock, acquire

R = TypeVar("R", bound=Record)

log = logging.getLogger(__name__)

__all__ = ["ConfigConflict", "ReadOnlyRun", "RunBusy", "RunDir", "RunDirError", "config_differences",
           "load_manifest", "package_versions"]

IGNORED_NAMES = frozenset({".lock", ".run.log.reserve"})


def _foreign_files(path: Path) -> bool:
    """Whether ``path`` holds anything a run's creation does not leave (its lock, its log reserve, the
    temporary file of an atomic write that was killed)."""
    return any(p.name not in IGNORED_NAMES and not is_temporary(p) for p in path.iterdir())
"""Files a failed creation may leave in an otherwise empty folder (it still counts as empty)."""

WARNING_EXAMPLES = 20
"""Warning messages kept per stage in the manifest (all of them are counted)."""


class RunDir:
    """A run directory on disk. Use :meth:`open`; all writes go through it."""

    FILES = {"problems": "problems.jsonl", "rollouts": "rollouts.jsonl", "grades": "grades.jsonl",
             "selections": "selections.jsonl"}

    def __init__(self, path: Path, manifest: dict[str, Any], *, lock: WriterLock | None = None) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self._lock = lock
        self._hashes: tuple[tuple, dict[tuple[str, int], str]] | None = None
        self._reported: set[tuple] = set()
        self.ignored: dict[str, dict[str, int]] = {}
        """Per record file, the lines the latest read ignored, by kind (see :mod:`tts.integrity`)."""
        self._closers: list[Any] = []
        if lock is not None:
            from tts.interrupts import on_interrupt

            describe = weakref.WeakMethod(self._saved_summary)  # the registry must not keep the run alive
            self._closers.append(weakref.finalize(self, release_log_space, self.path))
            self._closers.append(weakref.finalize(self, lock.release))
            # Kept past close(): an interrupted command unwinds (closing the run) before it says what is saved.
            weakref.finalize(self, on_interrupt(lambda: (m := describe()) and m()))

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path, *, create: bool = True, write: bool | None = None) -> RunDir:
        """Open a run directory; with ``create``, make it when missing.

        ``write`` (default: ``create``, since making a run is writing one) takes the writer lock, raising
        :class:`~tts.runlock.RunBusy` when another process holds it, and repairs what a killed writer left.
        ``write=False`` opens for reading only: no lock, no byte changed, writes refused.
        """
        path = Path(path)
        write = create if write is None else write
        mpath = path / "manifest.json"
        if not write:
            if not mpath.exists():
                raise RunDirError(f"{path} is not a run directory (no manifest.json)")
            return cls(path, load_manifest(mpath))
        if not mpath.exists():
            if not create:
                raise RunDirError(f"{path} is not a run directory (no manifest.json)")
            # A directory with a lock file may be a run another writer is creating: the lock decides.
            if path.exists() and not (path / LOCK_NAME).exists() and _foreign_files(path):
                raise RunDirError(f"{path} exists, is not empty and has no manifest.json; choose another --out")
            path.mkdir(parents=True, exist_ok=True)
        lock = acquire(path)
        try:
            if mpath.exists():  # read under the lock: the last writer's manifest
                manifest = load_manifest(mpath)
            else:
                if _foreign_files(path):  # checked again under the lock
                    raise RunDirError(f"{path} exists, is not empty and has no manifest.json; choose another --out")
                manifest = new_manifest()
                write_json_atomic(mpath, manifest)
            run = cls(path, manifest, lock=lock)
            run._clean_leftovers()
            reserve_log_space(path)
        except BaseException:
            lock.release()
            raise
        return run

    @property
    def writable(self) -> bool:
        """Whether this process opened the run for writing (and holds its lock)."""
        return self._lock is not None and not self._closed

    @property
    def _closed(self) -> bool:
        return bool(self._closers) and not self._closers[-1].alive

    def close(self) -> None:
        """Give back the writer lock (a reader has nothing to give back); the object stays readable."""
        for closer in self._closers:
            closer()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_write(self) -> None:
        if not self.writable:
            raise ReadOnlyRun(f"{self.path} was opened for reading; open it with RunDir.open(path, write=True) "
                              "to write (one writer at a time)")

    def _clean_leftovers(self) -> None:
        """As the single writer: set aside partial last lines (into quarantine/) and remove the temporary
        files of atomic writes that failed or were killed."""
        stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        for f in self.jsonl_files():
            rel = f.relative_to(self.path)
            repair_tail(f, keep=self.path / "quarantine" / f"{stamp}-partial" / rel)
        for folder in (self.path, self.images_dir, self.path / "scores"):
            if not folder.is_dir():
                continue
            for f in folder.iterdir():
                if is_temporary(f) and f.is_file():
                    f.unlink()
                    log.info("%s: removed the temporary file of an interrupted write", f)

    def jsonl_files(self) -> list[Path]:
        files = [self.path / name for name in self.FILES.values()]
        files += sorted((self.path / "scores").glob("*.jsonl"))
        return [f for f in files if f.exists()]

    def _saved_summary(self) -> str:
        """What is on disk, for the line printed when a command is interrupted."""
        counts = []
        for stage, name in (("rollouts", "rollouts"), ("grades", "grades"), ("selections", "selections")):
            f = self.path / self.FILES[stage]
            if f.exists():
                counts.append(f"{_lines(f)} {name}")
        for label in self.critics():
            counts.append(f"{_lines(self.file('scores', label))} scores ({label})")
        return f"saved in {self.path}: " + (", ".join(counts) or "no records yet")

    # ------------------------------------------------------------------ manifest
    def save(self) -> None:
        self._require_write()
        self.manifest["updated"] = utc_now()
        self.manifest["versions"] = package_versions()
        write_json_atomic(self.path / "manifest.json", self.manifest)

    def bind(self, section: str, config: Mapping[str, Any]) -> None:
        """Store ``config`` under ``manifest.config[section]``, or refuse if a different one is stored.

        Dotted sections nest (``"critics.visualprm"``). Raises :class:`ConfigConflict` listing every
        differing key.
        """
        node = self.manifest.setdefault("config", {})
        *parents, leaf = section.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        new = normalise(dict(config))
        if leaf in node:
            self._refuse(config_differences(node[leaf], new, prefix=section + "."))
            return
        self._require_write()
        node[leaf] = new
        self.save()

    def check(self, section: str, partial: Mapping[str, Any]) -> None:
        """Refuse (:class:`ConfigConflict`) if the stored ``section`` differs on any key of ``partial``;
        stores nothing. Lets a command fail before it loads a model it would not be allowed to use."""
        stored = self.config(section)
        if stored is None:
            return
        self._refuse(config_differences({k: stored.get(k, "<unset>") for k in partial}, dict(partial),
                                        prefix=section + "."))

    def _refuse(self, diffs: list[str]) -> None:
        if diffs:
            raise ConfigConflict(
                f"{self.path} was made with different settings; refusing to resume:\n  - "
                + "\n  - ".join(diffs)
                + "\nUse the run's settings, or write to a new --out directory."
            )

    def config(self, section: str) -> dict[str, Any] | None:
        node: Any = self.manifest.get("config", {})
        for part in section.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def set_model_info(self, role: str, info: Mapping[str, Any]) -> None:
        self._require_write()
        self.manifest.setdefault("models", {})[role] = normalise(dict(info))
        self.save()

    def update_stage(self, stage: str, **info: Any) -> None:
        self._require_write()
        entry = self.manifest.setdefault("stages", {}).setdefault(stage, {})
        entry.update(normalise(info))
        entry["updated"] = utc_now()
        self.save()

    def add_stage_time(self, stage: str, seconds: float) -> None:
        """Accumulate a stage's wall time across resumes (for the report's cost section)."""
        self._require_write()
        entry = self.manifest.setdefault("stages", {}).setdefault(stage, {})
        entry["seconds"] = round(float(entry.get("seconds", 0.0)) + seconds, 3)
        self.save()

    def add_warnings(self, stage: str, messages: Iterable[str]) -> None:
        """Count warnings (skipped rows, unscored rollouts, …) so nothing is dropped silently."""
        messages = list(messages)
        if not messages:
            return
        self._require_write()
        entry = self.manifest.setdefault("warnings", {}).setdefault(stage, {"count": 0, "examples": []})
        entry["count"] += len(messages)
        room = WARNING_EXAMPLES - len(entry["examples"])
        entry["examples"].extend(messages[: max(0, room)])
        self.save()

    def set_warnings(self, stage: str, messages: Iterable[str]) -> None:
        """Replace a stage's warnings: for a stage that recomputes them all on every call (loading the
        problems), so a resume does not count the same skipped row twice."""
        messages = list(messages)
        warnings = self.manifest.setdefault("warnings", {})
        if messages:
            self._require_write()
            warnings[stage] = {"count": len(messages), "examples": messages[:WARNING_EXAMPLES]}
        elif warnings.pop(stage, None) is None:
            return
        self.save()

    # ------------------------------------------------------------------ records
    def file(self, stage: str, critic: str | None = None) -> Path:
        if stage == "scores":
            if not critic:
                raise ValueError("scores need a critic label")
            return self.path / "scores" / f"{critic}.jsonl"
        try:
            return self.path / self.FILES[stage]
        except KeyError:
            raise ValueError(f"unknown stage {stage!r}") from None

    def scan(self, cls: type[R], critic: str | None = None, *, strict: bool = True,
             keep: Callable[[dict[str, Any]], bool] | None = None) -> Scan[R]:
        """The records of one stage readers use, and the lines they ignore (see :mod:`tts.integrity`)."""
        path = self.file(cls.STAGE, critic)
        try:
            rollouts = self.rollout_hashes() if cls in (StepScores, Grade) else None
            selections = selection_hashes(self.rollout_hashes()) if cls is Selection else None
            return scan_records(path, cls, label=critic, rollouts=rollouts, strict=strict, selections=selections,
                                name=str(path.relative_to(self.path)), keep=keep)
        except JsonlCorruption as exc:
            raise RunDirError(f"{exc}; run `tts doctor {self.path} --repair` to set the damaged line(s) aside "
                              "in quarantine/, then run your command again") from exc

    def read(self, cls: type[R], critic: str | None = None, *,
             keep: Callable[[dict[str, Any]], bool] | None = None) -> list[R]:
        """All records of one stage that readers use, in file order: the first line of every key; scores
        and grades only when computed from the rollout text now in the run (or written before text hashes
        existed). Ignored lines are counted in :attr:`ignored` and reported once. ``keep``: only the lines
        whose JSON object passes this test are parsed (a subset of a large file)."""
        result = self.scan(cls, critic, keep=keep)
        rel = str(self.file(cls.STAGE, critic).relative_to(self.path))
        counts = result.counts()
        counts.pop("partial", None)  # a write in flight for a reader; a writer set it aside on opening
        if counts:
            self.ignored[rel] = counts
        else:
            self.ignored.pop(rel, None)
        reportable = {k: v for k, v in counts.items() if k != "orphan"}  # a reader's snapshot may lag a writer
        if reportable and (rel, tuple(sorted(reportable.items()))) not in self._reported:
            self._reported.add((rel, tuple(sorted(reportable.items()))))
            again = " (they will be computed again)" if {"stale", "foreign"} & reportable.keys() else ""
            log.warning("%s: ignored %s line(s)%s; `tts doctor %s` lists them, `--repair` sets them aside",
                        self.path / rel, summary(reportable), again, self.path)
        return result.records

    def rollout_hashes(self) -> dict[tuple[str, int], str]:
        """Rollout key → :func:`~tts.records.hash_text` of its text (cached while rollouts.jsonl is unchanged)."""
        path = self.file("rollouts")
        try:
            st = path.stat()
            signature: tuple = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            signature = ()
        if self._hashes is None or self._hashes[0] != signature:
            records = scan_records(path, Rollout).records if signature else []
            self._hashes = (signature, {r.key(): r.text_hash for r in records})
        return self._hashes[1]

    def keys(self, cls: type[R], critic: str | None = None) -> set[tuple]:
        return {r.key() for r in self.read(cls, critic)}

    def appender(self, stage: str, critic: str | None = None) -> JsonlAppender:
        self._require_write()
        return JsonlAppender(self.file(stage, critic), repair=False)  # the tail was repaired on opening

    def append(self, records: Iterable[Record], critic: str | None = None) -> int:
        """Append one durable batch of records of a single stage.

        A record that cannot be written (a value JSON cannot hold, such as a NaN score) is left out with a
        warning, never failing the rest of the batch; it is missing on disk, so a resume tries it again.
        """
        records = list(records)
        if not records:
            return 0
        stage = records[0].STAGE
        lines = []
        for r in records:
            try:
                lines.append(r.to_line())
            except (ValueError, TypeError) as exc:
                log.warning("%s: record %s not written (%s); a resume will compute it again",
                            self.file(stage, critic), r.key(), exc)
        with self.appender(stage, critic) as w:
            return w.write_batch(lines)

    def critics(self) -> list[str]:
        return sorted(p.stem for p in (self.path / "scores").glob("*.jsonl"))

    # convenience readers --------------------------------------------------------
    def problems(self) -> list[Problem]:
        return self.read(Problem)

    def rollouts(self) -> list[Rollout]:
        return self.read(Rollout)

    def scores(self, critic: str) -> list[StepScores]:
        return self.read(StepScores, critic)

    def grades(self) -> list[Grade]:
        return self.read(Grade)

    def selections(self) -> list[Selection]:
        return self.read(Selection)

    @property
    def images_dir(self) -> Path:
        return self.path / "images"

    def resolve(self, ref: str) -> Path:
        """Absolute path of an image reference stored in a Problem."""
        p = Path(ref)
        return p if p.is_absolute() else self.path / p


def _lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return 0
