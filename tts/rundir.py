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

Why this shape: generation is expensive and crashes happen, so every stage appends durable records and a
restarted command skips every key already on disk. A resumed run must not silently mix settings, so each
stage *binds* its identity config (model, n, temperature, prompt, …) into the manifest, and a later command
with a different value is refused with a message naming the difference.

Example:
    >>> import tempfile
    >>> run = RunDir.open(tempfile.mkdtemp() + "/demo")
    >>> run.bind("sampling", {"n": 8, "temperature": 0.7})
    >>> run.bind("sampling", {"n": 4, "temperature": 0.7})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ConfigConflict: ... sampling.n: the run has 8, this command asks for 4 ...
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tts.errors import TTSError
from tts.jsonl import JsonlAppender, iter_jsonl, repair_tail, write_json_atomic
from tts.records import SCHEMA_VERSION, Grade, Problem, Record, Rollout, Selection, StepScores

R = TypeVar("R", bound=Record)

_PACKAGES = ("ttscale", "torch", "torchvision", "transformers", "vllm", "datasets", "math-verify", "numpy")


class ConfigConflict(TTSError, RuntimeError):
    """A command's settings differ from the settings the run directory was created with."""


class RunDirError(TTSError, RuntimeError):
    """The directory is not a usable run directory (bad manifest, newer schema, …)."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that decide a run's numbers (without importing them)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def _normalise(value: Any) -> Any:
    """JSON round-trip semantics (tuples are lists) so comparisons match what the manifest stores."""
    if isinstance(value, tuple | list):
        return [_normalise(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    return value


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable lines naming every key whose value differs between two config sections."""
    a, b = _flatten(_normalise(old), prefix), _flatten(_normalise(new), prefix)
    lines = []
    for key in sorted(a.keys() | b.keys()):
        if a.get(key, "<unset>") != b.get(key, "<unset>"):
            lines.append(f"{key}: the run has {a.get(key, '<unset>')!r}, this command asks for {b.get(key, '<unset>')!r}")
    return lines


WARNING_EXAMPLES = 20
"""Warning messages kept per stage in the manifest (all of them are counted)."""


class RunDir:
    """A run directory on disk. Use :meth:`open`; all writes go through it."""

    FILES = {"problems": "problems.jsonl", "rollouts": "rollouts.jsonl", "grades": "grades.jsonl",
             "selections": "selections.jsonl"}

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> RunDir:
        """Open (and with ``create``, make) a run directory; repairs files truncated by a crash."""
        path = Path(path)
        mpath = path / "manifest.json"
        if mpath.exists():
            import json

            try:
                manifest = json.loads(mpath.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise RunDirError(f"{mpath}: unreadable manifest ({exc})") from exc
            version = manifest.get("schema_version")
            if not isinstance(version, int) or version > SCHEMA_VERSION:
                raise RunDirError(
                    f"{mpath}: schema version {version!r} is not supported by this ttscale "
                    f"(supports <= {SCHEMA_VERSION}); upgrade ttscale"
                )
        elif not create:
            raise RunDirError(f"{path} is not a run directory (no manifest.json)")
        else:
            if path.exists() and any(path.iterdir()):
                raise RunDirError(f"{path} exists, is not empty and has no manifest.json; choose another --out")
            path.mkdir(parents=True, exist_ok=True)
            now = _now()
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "created": now,
                "updated": now,
                "versions": package_versions(),
                "config": {},
                "models": {},
                "stages": {},
                "warnings": {},
            }
            write_json_atomic(mpath, manifest)
        run = cls(path, manifest)
        for f in run.jsonl_files():
            repair_tail(f)
        return run

    def jsonl_files(self) -> list[Path]:
        files = [self.path / name for name in self.FILES.values()]
        files += sorted((self.path / "scores").glob("*.jsonl"))
        return [f for f in files if f.exists()]

    # ------------------------------------------------------------------ manifest
    def save(self) -> None:
        self.manifest["updated"] = _now()
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
        new = _normalise(dict(config))
        if leaf in node:
            self._refuse(config_differences(node[leaf], new, prefix=section + "."))
            return
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
        self.manifest.setdefault("models", {})[role] = _normalise(dict(info))
        self.save()

    def update_stage(self, stage: str, **info: Any) -> None:
        entry = self.manifest.setdefault("stages", {}).setdefault(stage, {})
        entry.update(_normalise(info))
        entry["updated"] = _now()
        self.save()

    def add_stage_time(self, stage: str, seconds: float) -> None:
        """Accumulate a stage's wall time across resumes (for the report's cost section)."""
        entry = self.manifest.setdefault("stages", {}).setdefault(stage, {})
        entry["seconds"] = round(float(entry.get("seconds", 0.0)) + seconds, 3)
        self.save()

    def add_warnings(self, stage: str, messages: Iterable[str]) -> None:
        """Count warnings (skipped rows, unscored rollouts, …) so nothing is dropped silently."""
        messages = list(messages)
        if not messages:
            return
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

    def read(self, cls: type[R], critic: str | None = None) -> list[R]:
        """All records of one stage, in file order."""
        path = self.file(cls.STAGE, critic)
        out = []
        for lineno, row in enumerate(iter_jsonl(path), start=1):
            try:
                out.append(cls.from_json(row))
            except ValueError as exc:
                raise RunDirError(f"{path}:{lineno}: {exc}") from exc
        return out

    def keys(self, cls: type[R], critic: str | None = None) -> set[tuple]:
        return {r.key() for r in self.read(cls, critic)}

    def appender(self, stage: str, critic: str | None = None) -> JsonlAppender:
        return JsonlAppender(self.file(stage, critic))

    def append(self, records: Iterable[Record], critic: str | None = None) -> int:
        """Append one durable batch of records of a single stage."""
        records = list(records)
        if not records:
            return 0
        stage = records[0].STAGE
        with self.appender(stage, critic) as w:
            return w.write_batch([r.to_line() for r in records])

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
