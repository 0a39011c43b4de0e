"""Append-only JSON Lines files that survive a crash at any moment.

A writer appends whole batches of lines and fsyncs after each batch, so a killed process leaves at most one
partial line at the end of a file: :func:`repair_tail` drops it (with a warning, keeping the bytes in a
quarantine file when asked) before anything is appended again. Only a writer repairs (a run directory's
writer, under its lock): a reader that meets a partial last line ignores it, since it may be a write in
flight. A malformed line in the *middle* of a file is real corruption and is reported with its line number
rather than skipped (``tts doctor RUN --repair`` sets such lines aside).

A batch that cannot be written whole (a full disk) is cut off again, so the file never keeps half of it, and
an atomic replace that fails leaves no temporary file. Both run as a critical section
(:func:`tts.interrupts.deferred`): a SIGINT/SIGTERM arriving mid-write is raised once the write is done.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tts.errors import TTSError
from tts.interrupts import deferred

log = logging.getLogger(__name__)


class JsonlCorruption(TTSError, ValueError):
    """A line other than the last one of a JSONL file is not valid JSON."""


def repair_tail(path: Path, keep: Path | None = None) -> int:
    """Cut a truncated trailing line (no final newline) off ``path``; return the number of bytes dropped.

    Why: a process killed mid-write leaves a partial line; appending after it would glue two records.
    ``keep``: a file the dropped bytes are appended to (and fsynced) first, so nothing is ever lost.
    Call it only as the file's single writer.
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
        cut = 0
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start)
            idx = data.rfind(b"\n")
            if idx >= 0:
                cut = start + idx + 1
                break
            pos = start
        if keep is not None:
            f.seek(cut)
            _append_durably(keep, f.read())
        with deferred():
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
    dropped = size - cut
    where = f"; the bytes are kept in {keep}" if keep is not None else ""
    log.warning("%s: set aside a truncated trailing line (%d bytes) left by an interrupted write%s", path, dropped, where)
    return dropped


def _append_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        f.write(data if data.endswith(b"\n") else data + b"\n")
        f.flush()
        os.fsync(f.fileno())


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of ``path`` in order; a missing file yields nothing.

    A trailing line without a newline is ignored: it is a write in flight, or the leftover of a killed
    writer that the next writer sets aside.
    """
    if not path.exists():
        return
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete = lines[:-1]  # the element after the last "\n" is either empty or a partial line
    if lines[-1].strip():
        log.debug("%s: ignoring a partial trailing line (a write in flight, or a killed writer's)", path)
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

    def __init__(self, path: Path, *, repair: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if repair:
            repair_tail(self.path)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def write_batch(self, rows: Iterable[dict[str, Any] | str]) -> int:
        """Write the rows (dicts, or already-encoded JSON strings) as one durable batch.

        All or nothing: when the write fails (a full disk) the file is cut back to where the batch began
        and the error, naming the file, is raised.
        """
        parts = [encode_line(row) for row in rows]
        if not parts:
            return 0
        if self._fd is None:
            raise ValueError(f"{self.path}: the appender is closed")
        data = b"".join(parts)
        with deferred():
            start = os.lseek(self._fd, 0, os.SEEK_END)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fsync(self._fd)
            except OSError as exc:
                try:
                    os.ftruncate(self._fd, start)
                except OSError:  # pragma: no cover - the next writer's tail repair handles what is left
                    pass
                raise OSError(exc.errno, exc.strerror, str(self.path)) from exc
        return len(parts)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_line(row: dict[str, Any] | str) -> bytes:
    """One JSON line as UTF-8 bytes (with its newline); a str row must already be one line of JSON."""
    line = row if isinstance(row, str) else json.dumps(row, ensure_ascii=False, allow_nan=False)
    if "\n" in line:
        raise ValueError("a JSON line must not contain a raw newline")
    return line.encode("utf-8") + b"\n"


TMP_MARK = ".tmp-"
"""Temporary files of :func:`write_bytes_atomic` are named ``.<name>.tmp-<pid>``."""


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file of :func:`write_bytes_atomic` (a crash's leftover unless its
    writer still runs)."""
    name = Path(path).name
    head, sep, pid = name.rpartition(TMP_MARK)
    return name.startswith(".") and bool(sep) and bool(head) and pid.isdigit()


def jsonable(value: Any) -> Any:
    """``value`` if JSON can hold it, else the same structure with what JSON cannot hold as ``str``.

    Why: model and critic ``info()`` may carry paths, dtypes or devices; a manifest must still be written.

    >>> jsonable({"dtype": type, "n": [1, 2]})
    {'dtype': "<class 'type'>", 'n': [1, 2]}
    """
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        if isinstance(value, Mapping):
            return {str(k): jsonable(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [jsonable(v) for v in value]
        return str(value)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably: temp file, fsync, rename, fsync the folder.

    A record that points to this file may be fsynced right after; without the fsyncs an OS crash could
    leave the rename on disk but not the bytes (an empty file that a resume would take as done). A write
    that fails (a full disk) removes its temporary file and raises an error naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    with deferred():
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself
        finally:
            os.close(fd)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Replace ``path`` with ``obj`` as pretty JSON, atomically (write a temp file, fsync, rename).

    A string holding a lone surrogate (a file name in a foreign encoding, model text) is written as its
    JSON escape (``\\udcff``), which reads back to the same string: the file never fails to write.
    """
    text = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))
