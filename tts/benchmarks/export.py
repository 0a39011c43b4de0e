"""Write a benchmark's problems as JSONL with their rendered prompts: what exactly the model will be asked.

Each line is a Problem record (:mod:`tts.records` format) plus ``prompt`` (the fully rendered policy
prompt of the chosen prompt set) and ``n_images``. Images are validated (decoded, converted to RGB) and
stored next to the file under ``images/``, so the ``images`` references resolve relative to the file's
folder. The file is written to a temporary name and renamed, so a crash never leaves half a file.

Example:
    >>> import json, tempfile
    >>> out = tempfile.mkdtemp() + "/demo.jsonl"
    >>> summary = export_problems("demo", out, limit=1)
    >>> summary.n_problems, summary.warnings
    (1, [])
    >>> row = json.loads(open(out).readline())
    >>> row["id"], row["n_images"], row["prompt"].startswith("<image>\\nHow many red circles")
    ('demo-1', 1, True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tts.benchmarks import load_problems
from tts.benchmarks.base import BenchmarkError, Progress
from tts.errors import ConfigError
from tts.images import ImageStore
from tts.prompts import IMAGE_PLACEHOLDER, build_prompt


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_problems` wrote, and every row it skipped (with the reason)."""

    path: Path
    n_problems: int
    warnings: list[str] = field(default_factory=list)


def export_problems(spec: str, out: str | os.PathLike[str], *, data_dir: str | Path | None = None,
                    prompt_set: str = "internvl_cot", limit: int | None = None,
                    ids: Collection[str] | None = None, strict: bool = False,
                    subset: Sequence[str] | None = None, progress: Progress | None = None) -> ExportSummary:
    """Load ``spec`` (a benchmark or group) and write its problems with rendered prompts to ``out``.

    A problem whose rendered prompt does not hold exactly one ``<image>`` per image (a question text that
    itself contains ``<image>``) is skipped with a warning, or raises with ``strict``.
    """
    path = check_out(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ImageStore(path.parent)
    loaded = load_problems(spec, store=store, data_dir=data_dir, limit=limit, ids=ids, strict=strict,
                           subset=subset, progress=progress)
    warnings = list(loaded.warnings)
    lines = []
    for problem in loaded.problems:
        prompt = build_prompt(problem, prompt_set)
        if prompt.count(IMAGE_PLACEHOLDER) != len(problem.images):
            message = (f"{problem.id}: the rendered prompt has {prompt.count(IMAGE_PLACEHOLDER)} {IMAGE_PLACEHOLDER} "
                       f"placeholders for {len(problem.images)} images; skipped")
            if strict:
                raise BenchmarkError(message.replace("; skipped", " (--strict)"))
            warnings.append(message)
            continue
        row = problem.to_json()
        row["prompt"] = prompt
        row["n_images"] = len(problem.images)
        lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only still there when the write or the rename failed
    return ExportSummary(path, len(lines), warnings)


def check_out(out: str | os.PathLike[str]) -> Path:
    """``out`` if a JSONL file can be written there, else a :class:`~tts.errors.ConfigError` saying why.

    Checked before anything is loaded: ``--out`` naming a folder (a run directory or any other) or a path
    under a file would otherwise fail only at the final rename, after the whole download and decoding.
    """
    path = Path(out)
    if path.is_dir():
        kind = "a run directory" if (path / "manifest.json").is_file() else "a folder"
        raise ConfigError(f"--out {path} is {kind}; give the JSONL file to write (e.g. --out {path / 'problems.jsonl'})"
                          + ("; to add problems to a run use tts sample RUN --benchmark …" if kind != "a folder" else ""))
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ConfigError(f"--out {path}: {parent} is a file, not a folder")
    return path
