"""Append-only JSON Lines files that survive a crash at any moment.

A writer appends whole batches of lines and fsyncs after each batch, so a killed process leaves at most one
partial line at the end of a file: :func:`repair_tail` drops it (with a warning) before anything is
appended again. A malformed line in the *middle* of a file is real corruption and is reported with its
line number rather than skipped.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tts.errors import TTSError

log = logging.getLogger(__name__)


class JsonlCorruption(TTSError, ValueError):
    """A line other than the last one of a JSONL file is not valid JSON."""


def repair_tail(path: Path) -> int:
    """Cut a truncated trailing line (no final newline) off ``path``; return the number of bytes dropped.

    Why: a process killed mid-write leaves a partial line; appending after it would glue two records.
    """
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return 0
        # Scan back for the last newline in chunks.
        pos, chunk = size, 1 << 16
        keep = 0
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start)
            idx = data.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                break
            pos = start
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    dropped = size - keep
    log.warning("%s: dropped a truncated trailing line (%d bytes) left by an interrupted write", path, dropped)
    return dropped


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of ``path`` in order; a missing file yields nothing.

    A trailing line without a newline is ignored (it is the in-flight write of a killed process).
    """
    if not path.exists():
        return
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete = lines[:-1]  # the element after the last "\n" is either empty or a partial line
    if lines[-1].strip():
        log.warning("%s: ignoring a truncated trailing line", path)
    for lineno, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except json.JSONDecodeError as exc:
            raise JsonlCorruption(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return list(iter_jsonl(path))


class JsonlAppender:
    """Appends batches of JSON lines to one file; each batch is flushed and fsynced before returning.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
        >>> with JsonlAppender(p) as w:
        ...     n = w.write_batch([{"a": 1}, {"a": 2}])
        >>> read_jsonl(p)
        [{'a': 1}, {'a': 2}]
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self._f = open(self.path, "ab")

    def write_batch(self, rows: Iterable[dict[str, Any] | str]) -> int:
        """Write the rows (dicts, or already-encoded JSON strings) as one durable batch."""
        parts = []
        for row in rows:
            line = row if isinstance(row, str) else json.dumps(row, ensure_ascii=False, allow_nan=False)
            if "\n" in line:
                raise ValueError("a JSON line must not contain a raw newline")
            parts.append(line.encode("utf-8") + b"\n")
        if not parts:
            return 0
        self._f.write(b"".join(parts))
        self._f.flush()
        os.fsync(self._f.fileno())
        return len(parts)

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably: temp file, fsync, rename, fsync the folder.

    A record that points to this file may be fsynced right after; without the fsyncs an OS crash could
    leave the rename on disk but not the bytes (an empty file that a resume would take as done).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Replace ``path`` with ``obj`` as pretty JSON, atomically (write a temp file, fsync, rename)."""
    write_bytes_atomic(path, (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8"))
