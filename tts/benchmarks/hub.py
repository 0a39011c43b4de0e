"""Benchmarks published on the Hugging Face hub, loaded with ``datasets`` from the hub or a local snapshot.

A local copy lives at ``ROOT/<org>/<name>`` exactly as ``huggingface-cli download --repo-type dataset
<org>/<name> --local-dir ROOT/<org>/<name>`` leaves it (README with its ``configs:`` header plus the
parquet shards). Both are read by the same call, ``datasets.load_dataset(<hub id or local dir>, name,
split=...)``, so a local copy behaves exactly like the hub and needs no network.

Image columns are read with ``decode=False``: rows carry the original encoded bytes, which are decoded
once to validate them (and their conversion to RGB) before the :class:`~tts.images.ImageStore` keeps the
original file. A row that cannot become a Problem (missing or undecodable image, malformed options, a
duplicate id) is skipped with a warning naming the row and the reason; ``strict=True`` raises instead.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tts.benchmarks.base import Benchmark, BenchmarkError, LoadedProblems, Progress
from tts.images import BadImage, ImageStore, decode, to_rgb
from tts.records import Problem, RecordError

DATA_DIR_ENV = "TTS_DATA_DIR"


class BadRow(ValueError):
    """One dataset row cannot become a Problem; the message says why."""


@dataclass(frozen=True)
class Source:
    """One ``load_dataset`` call: hub config and split, and the ``Problem.split`` its rows get."""

    config: str | None
    hf_split: str
    split: str


@dataclass(frozen=True)
class ParsedRow:
    """A row's Problem fields (all but ``images``) and its image values in prompt order."""

    fields: dict[str, Any]
    images: list[tuple[str, Any]]


def data_root(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """``data_dir``, else ``$TTS_DATA_DIR``, else ``None`` (load from the hub)."""
    root = data_dir if data_dir else os.environ.get(DATA_DIR_ENV)
    return Path(root).expanduser() if root else None


def image_bytes(value: Any, label: str, base: Path | None = None) -> bytes:
    """The encoded bytes of a ``datasets`` Image value read with ``decode=False`` (``{bytes, path}``)."""
    if value is None:
        raise BadRow(f"missing image {label}")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, Mapping):
        raise BadRow(f"image {label} has unexpected type {type(value).__name__}")
    data = value.get("bytes")
    path = value.get("path")
    if not data and path and base is not None and (base / path).is_file():
        data = (base / path).read_bytes()
    if not data:
        where = f" (path {path!r} not found)" if path else ""
        raise BadRow(f"missing image {label}: no bytes{where}")
    return bytes(data)


def store_image(store: ImageStore, value: Any, label: str, base: Path | None = None) -> str:
    """Validate an image (decodes, converts to RGB) and store its original bytes; return the reference."""
    data = image_bytes(value, label, base)
    try:
        to_rgb(decode(data))
    except BadImage as exc:
        raise BadRow(f"undecodable image {label}: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise BadRow(f"image {label} cannot be converted to RGB: {exc}") from exc
    return store.put(data)


class HubBenchmark(Benchmark):
    """A benchmark stored as a ``datasets`` repository; subclasses map one row to one Problem."""

    hub_id: ClassVar[str] = ""
    image_columns: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ per-benchmark hooks
    def sources(self, split: str, subsets: tuple[str, ...]) -> list[Source]:
        return [Source(None, split, split)]

    def keep(self, row: Mapping[str, Any], subsets: tuple[str, ...]) -> bool:
        """Whether a row belongs to the selected subsets (MathVerse versions filter rows)."""
        return True

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        raise NotImplementedError

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        raise NotImplementedError

    # ------------------------------------------------------------------ loading
    def location(self, data_dir: Path | None) -> str:
        """Where ``load_dataset`` reads from: ``ROOT/<org>/<name>`` or the hub id."""
        if data_dir is None:
            return self.hub_id
        path = data_dir / self.hub_id
        if not path.is_dir():
            hint = ""
            if data_dir.name == self.hub_id.split("/")[-1] and (data_dir / "README.md").is_file():
                hint = f" ({data_dir} looks like the dataset itself: pass its grandparent, the ROOT)"
            raise BenchmarkError(
                f"{self.name}: no local copy at {path}{hint}. Download it with\n"
                f"  huggingface-cli download --repo-type dataset {self.hub_id} --local-dir {path}\n"
                f"or drop --data-dir/${DATA_DIR_ENV} to load from the hub."
            )
        return str(path)

    def open(self, location: str, source: Source) -> Any:
        import datasets

        try:
            ds = datasets.load_dataset(location, name=source.config, split=source.hf_split)
        except Exception as exc:  # datasets raises many unrelated types for a missing or broken copy
            raise BenchmarkError(
                f"{self.name}: cannot load {location} (config {source.config or 'default'}, "
                f"split {source.hf_split}): {type(exc).__name__}: {exc}"
            ) from exc
        missing = [c for c in self.columns if c not in ds.column_names]
        if missing:
            raise BenchmarkError(
                f"{self.name}: {location} split {source.hf_split} lacks column(s) {missing}; "
                f"has {ds.column_names}. Is this really {self.hub_id}?"
            )
        for col in self.image_columns:
            if col in ds.column_names:
                ds = ds.cast_column(col, datasets.Image(decode=False))
        return ds

    def load(self, split: str, *, store: ImageStore, data_dir: Path | None = None, limit: int | None = None,
             ids: Collection[str] | None = None, strict: bool = False, subsets: Sequence[str] | None = None,
             progress: Progress | None = None) -> LoadedProblems:
        chosen = self.check_subsets(subsets)
        root = data_root(data_dir)
        location = self.location(root)
        base = Path(location) if root is not None else None  # resolves image paths of a local copy
        wanted = set(ids) if ids is not None else None
        problems: list[Problem] = []
        warnings: list[str] = []
        seen: set[str] = set()
        if limit is not None and limit <= 0:
            return LoadedProblems(problems, warnings)
        for source in self.sources(split, chosen):
            ds = self.open(location, source)
            for index, row in self._rows(ds, source, progress):
                if not self.keep(row, chosen):
                    continue
                pid = None
                try:
                    pid = self.problem_id(row, source, index)
                    if wanted is not None and pid not in wanted:
                        continue
                    if pid in seen:
                        raise BadRow(f"duplicate problem id {pid}")
                    parsed = self.parse_row(row, source)
                    refs = tuple(store_image(store, value, label, base) for label, value in parsed.images)
                    problem = Problem(id=pid, benchmark=self.name, split=source.split, images=refs,
                                      **parsed.fields)
                except (BadRow, RecordError) as exc:
                    where = f"row {index}" + (f" ({pid})" if pid else "")
                    message = f"{self.name}:{source.split} {where}: {exc}; skipped"
                    if strict:
                        raise BenchmarkError(message.replace("; skipped", " (--strict)")) from exc
                    warnings.append(message)
                    continue
                seen.add(pid)
                problems.append(problem)
                if limit is not None and len(problems) >= limit:
                    return LoadedProblems(problems, warnings)
        return LoadedProblems(problems, warnings)

    def _rows(self, ds: Any, source: Source, progress: Progress | None) -> Iterator[tuple[int, dict]]:
        total = len(ds)
        label = f"{self.name}:{source.split}" + (f" ({source.config})" if source.config else "")
        for index, row in enumerate(ds):
            yield index, row
            if progress is not None:
                progress(index + 1, total, label)
