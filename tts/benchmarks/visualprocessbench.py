"""VisualProcessBench (hub ``OpenGVLab/VisualProcessBench``): solutions with human step labels, for critics.

This is a benchmark *for critics*, not for the policy: each row is one model-written solution already split
into steps, each step labelled correct / neutral / incorrect. It is therefore not registered with the
policy benchmarks (``reasoning7``, ``tts problems``); ``tts critic-eval`` reads it through
:func:`load_visualprocessbench`.

Schema (the dataset card's "Data fields" tables, huggingface.co/datasets/OpenGVLab/VisualProcessBench; the
same field use in third-party evaluation scripts that read ``row["response"]["steps"]`` and
``row["response"]["process_correctness"]`` and join each ``row["image"]`` entry to the dataset folder):

* repository files: ``README.md`` (card, ``configs: test -> test.jsonl``), ``test.jsonl`` (2,866 rows),
  ``images.zip`` (the images, 501 MB);
* one JSON object per line: ``image`` (list of image paths, relative to the repository), ``question``,
  ``answer`` (ground truth), ``response`` = ``{"steps": [str, ...], "process_correctness": [int, ...]}``
  where 1, 0, -1 mean correct, neutral, incorrect, ``policy_model`` (the model that wrote the solution),
  ``data_source`` (the benchmark the question comes from).

Why not ``datasets.load_dataset``: the card's ``dataset_info`` declares all six columns as ``string`` while
the file holds a list (``image``) and an object (``response``), so the ``datasets`` JSON builder fails the
whole split with "Couldn't cast array of type list<item: string> to string" (reproduced by
``tests/benchmarks/test_visualprocessbench.py``). The JSONL is therefore read line by line, which also lets
a malformed row cost only itself. From the hub, the repository is fetched with
``huggingface_hub.snapshot_download`` (cached, offline once downloaded); with ``data_dir`` (or
``$TTS_DATA_DIR``) it is read from ``ROOT/OpenGVLab/VisualProcessBench`` as
``huggingface-cli download --repo-type dataset OpenGVLab/VisualProcessBench --local-dir ...`` leaves it.

Images are read straight out of ``images.zip`` (or from an unpacked copy next to it). The path layout inside
the archive could not be confirmed from public sources, so an image entry ``p`` is looked up as ``p`` and
as ``images/p`` (or ``p`` without a leading ``images/``), in the folder first, then in the archive; when
most rows' images cannot be found the load fails with one message showing a dataset path and an archive
entry, instead of skipping every row.

Sources: the paper's Table 3 columns are MMMU, MathVision, MathVerse-VO, DynaMath and WeMath. The exact
``data_source`` strings could only be confirmed from third-party evaluation code (``MMMU_DEV_VAL``,
``MathVision_MINI``, ``MathVerse_MINI_Vision_Only``, ``DynaMath``, ``WeMath``, VLMEvalKit's dataset names),
so a source is mapped to its column by its prefix, case-insensitively; an unknown source keeps its own name
and gets a warning.

Example:
    >>> from tts.benchmarks.visualprocessbench import column_of
    >>> column_of("MathVerse_MINI_Vision_Only"), column_of("MMMU_DEV_VAL"), column_of("Other")
    ('MathVerse-VO', 'MMMU', None)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.benchmarks.base import BenchmarkError
from tts.benchmarks.hub import DATA_DIR_ENV, BadRow, data_root

HUB_ID = "OpenGVLab/VisualProcessBench"
ROWS_FILE = "test.jsonl"
IMAGES_ZIP = "images.zip"
LABELS: dict[int, str] = {1: "correct", 0: "neutral", -1: "incorrect"}
FIELDS = ("image", "question", "answer", "response", "policy_model", "data_source")

#: Table 3 column → (``data_source`` prefix, the policy benchmark whose image tiling the critic gets).
COLUMNS: dict[str, tuple[str, str]] = {
    "MMMU": ("mmmu", "mmmu"),
    "MathVision": ("mathvision", "mathvision"),
    "MathVerse-VO": ("mathverse", "mathverse"),
    "DynaMath": ("dynamath", "dynamath"),
    "WeMath": ("wemath", "wemath"),
}


def column_of(source: str) -> str | None:
    """The Table 3 column of a ``data_source`` value, or ``None`` for a source outside the five."""
    folded = source.strip().lower().replace("-", "").replace(" ", "")
    for column, (prefix, _) in COLUMNS.items():
        if folded.startswith(prefix):
            return column
    return None


def benchmark_of(column: str) -> str | None:
    """The policy benchmark name (for its image tiling rule) of a Table 3 column."""
    return COLUMNS[column][1] if column in COLUMNS else None


@dataclass(frozen=True)
class ProcessSample:
    """One labelled solution: the question, its images (dataset paths), the steps and their labels."""

    id: str  # "vpb-<line index>", stable for a given test.jsonl (its sha256 is recorded with the results)
    index: int
    source: str  # data_source as in the dataset
    column: str  # Table 3 column (or the source itself when it is not one of the five)
    question: str
    answer: str
    steps: tuple[str, ...]
    labels: tuple[int, ...]
    policy_model: str
    images: tuple[str, ...]


class ImageFiles:
    """The dataset's images, from an unpacked folder or straight out of ``images.zip`` (read-only)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        zip_path = root / IMAGES_ZIP
        self._zip: zipfile.ZipFile | None = zipfile.ZipFile(zip_path) if zip_path.is_file() else None
        self._members = {n for n in self._zip.namelist() if not n.endswith("/")} if self._zip else set()

    @staticmethod
    def candidates(path: str) -> list[str]:
        path = path.replace("\\", "/").lstrip("/")
        out = [path, f"images/{path}"]
        if path.startswith("images/"):
            out.append(path[len("images/"):])
        return out

    def where(self, path: str) -> tuple[str, str] | None:
        """``("dir", file)`` or ``("zip", member)`` for a dataset image path, ``None`` when it is nowhere."""
        for candidate in self.candidates(path):
            target = (self.root / candidate).resolve()
            if target.is_file() and self.root.resolve() in target.parents:
                return "dir", str(target)
        for candidate in self.candidates(path):
            if candidate in self._members:
                return "zip", candidate
        return None

    def read(self, path: str) -> bytes:
        found = self.where(path)
        if found is None:
            raise FileNotFoundError(f"image {path!r} is neither under {self.root} nor in {IMAGES_ZIP}")
        kind, name = found
        if kind == "dir":
            return Path(name).read_bytes()
        assert self._zip is not None
        return self._zip.read(name)

    def example_member(self) -> str | None:
        return min(self._members) if self._members else None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


@dataclass
class LoadedSamples:
    """The selected samples in file order, one warning per skipped row, and where they came from."""

    samples: list[ProcessSample]
    warnings: list[str]
    rows: int  # lines in test.jsonl (bad ones included)
    skipped: int  # bad rows skipped (each has a warning)
    root: Path
    sha256: str  # of test.jsonl: the identity of the data the sample ids refer to
    revision: str | None  # hub commit when fetched from the hub
    images: ImageFiles = field(repr=False)

    def identity(self) -> dict[str, Any]:
        return {"dataset": HUB_ID, "file": ROWS_FILE, "sha256": self.sha256, "rows": self.rows}


def _as_text(value: Any, name: str, *, empty_ok: bool = True) -> str:
    if not isinstance(value, str):
        raise BadRow(f"{name} is {type(value).__name__}, expected a string")
    if not empty_ok and not value.strip():
        raise BadRow(f"{name} is empty")
    return value


def parse_row(obj: Any, index: int) -> ProcessSample:
    """One ``test.jsonl`` object as a :class:`ProcessSample`; :class:`BadRow` says what is wrong with it."""
    if not isinstance(obj, dict):
        raise BadRow(f"a line holds {type(obj).__name__}, expected a JSON object")
    missing = [k for k in ("image", "question", "response", "data_source") if k not in obj]
    if missing:
        raise BadRow(f"missing field(s) {missing}; has {sorted(obj)}")
    response = obj["response"]
    if isinstance(response, str):  # tolerate a response stored as a JSON string (the card's declared dtype)
        try:
            response = json.loads(response)
        except json.JSONDecodeError as exc:
            raise BadRow("response is a string that is not JSON") from exc
    if not isinstance(response, dict) or "steps" not in response or "process_correctness" not in response:
        keys = sorted(response) if isinstance(response, dict) else type(response).__name__
        raise BadRow(f"response must hold steps and process_correctness; got {keys}")
    steps, labels = response["steps"], response["process_correctness"]
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise BadRow("response.steps must be a list of strings")
    if not isinstance(labels, list) or not all(type(v) is int and v in LABELS for v in labels):
        raise BadRow(f"response.process_correctness must be a list of 1/0/-1 integers; got {str(labels)[:80]}")
    if not steps:
        raise BadRow("no steps")
    if len(steps) != len(labels):
        raise BadRow(f"{len(steps)} steps but {len(labels)} labels")
    images = obj["image"]
    if isinstance(images, str):  # tolerate a single path (the card's declared dtype)
        images = [images]
    if not isinstance(images, list) or not images or not all(isinstance(p, str) and p for p in images):
        raise BadRow(f"image must be a non-empty list of paths; got {str(obj['image'])[:80]}")
    source = _as_text(obj["data_source"], "data_source", empty_ok=False).strip()
    answer = obj.get("answer")
    return ProcessSample(
        id=f"vpb-{index:05d}", index=index, source=source, column=column_of(source) or source,
        question=_as_text(obj["question"], "question", empty_ok=False),
        answer="" if answer is None else str(answer), steps=tuple(steps), labels=tuple(labels),
        policy_model=str(obj.get("policy_model") or ""), images=tuple(images),
    )


def locate(data_dir: str | os.PathLike[str] | None, revision: str | None = None) -> tuple[Path, str | None]:
    """The repository folder: ``ROOT/OpenGVLab/VisualProcessBench`` or a hub snapshot (downloaded once)."""
    root = data_root(data_dir)
    if root is not None:
        path = root / HUB_ID
        if not (path / ROWS_FILE).is_file():
            hint = ""
            if (root / ROWS_FILE).is_file():
                hint = f" ({root} looks like the dataset itself: pass its grandparent, the ROOT)"
            raise BenchmarkError(
                f"visualprocessbench: no {ROWS_FILE} at {path}{hint}. Download it with\n"
                f"  huggingface-cli download --repo-type dataset {HUB_ID} --local-dir {path}\n"
                f"or drop --data-dir/${DATA_DIR_ENV} to load from the hub.")
        return path, None
    from huggingface_hub import snapshot_download

    try:
        local = Path(snapshot_download(HUB_ID, repo_type="dataset", revision=revision,
                                       allow_patterns=[ROWS_FILE, IMAGES_ZIP, "README.md"]))
    except Exception as exc:  # noqa: BLE001 - network, auth and cache errors all mean "cannot fetch"
        raise BenchmarkError(f"visualprocessbench: cannot fetch {HUB_ID} from the hub: {type(exc).__name__}: {exc}. "
                             f"Download it once and pass --data-dir (see `tts critic-eval --help`).") from exc
    return local, local.name  # snapshots/<commit>


def load_visualprocessbench(data_dir: str | os.PathLike[str] | None = None, *, revision: str | None = None,
                            limit: int | None = None, sources: Sequence[str] | None = None,
                            strict: bool = False) -> LoadedSamples:
    """Read VisualProcessBench's rows; a bad row (malformed JSON or fields, missing image) is skipped.

    ``limit`` keeps the first K samples *of each source* (file order); ``sources`` keeps the named sources
    (Table 3 column names or ``data_source`` values, case-insensitive). ``strict`` makes a bad row an error.
    Raises :class:`BenchmarkError` when the file cannot be found, or when most rows are bad (the schema or
    the image layout is not what this loader expects: one message instead of thousands of skipped rows).
    """
    root, revision_found = locate(data_dir, revision)
    raw = (root / ROWS_FILE).read_bytes()
    images = ImageFiles(root)
    wanted = {s.strip().lower() for s in sources} if sources else None
    samples: list[ProcessSample] = []
    warnings: list[str] = []
    reasons: Counter = Counter()
    per_source: Counter = Counter()
    lines = raw.decode("utf-8", errors="replace").splitlines()
    rows = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        rows += 1
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadRow(f"not valid JSON ({exc.msg})") from exc
            sample = parse_row(obj, index)
            missing = [p for p in sample.images if images.where(p) is None]
            if missing:
                raise BadRow(f"image {missing[0]!r} not found in {root.name}/ or its {IMAGES_ZIP}")
        except BadRow as exc:
            message = f"visualprocessbench line {index + 1}: {exc}; skipped"
            if strict:
                images.close()
                raise BenchmarkError(message.replace("; skipped", " (--strict)")) from exc
            warnings.append(message)
            reasons[re.sub(r"'[^']*'|\[[^\]]*\]|\d+", "…", str(exc))] += 1  # the reason, without row details
            continue
        if wanted is not None and sample.column.lower() not in wanted and sample.source.lower() not in wanted:
            continue
        if limit is not None and per_source[sample.column] >= limit:
            continue
        per_source[sample.column] += 1
        samples.append(sample)
    bad = len(warnings)
    if bad and bad >= rows - bad:
        images.close()
        common = ", ".join(f"{r} ({n}x)" for r, n in reasons.most_common(3))
        example = images.example_member()
        layout = f"; {IMAGES_ZIP} holds e.g. {example!r}" if example else f"; no {IMAGES_ZIP} in {root}"
        raise BenchmarkError(f"visualprocessbench: {bad} of {rows} rows in {root / ROWS_FILE} are unusable "
                             f"(most common: {common}){layout}. Expected the schema of {HUB_ID}: one object per line "
                             f"with {', '.join(FIELDS)}; first problem: {warnings[0]}")
    unknown = sorted({s.source for s in samples if column_of(s.source) is None})
    if unknown:
        warnings.append(f"visualprocessbench: source(s) {unknown} are not among the paper's five "
                        f"({', '.join(COLUMNS)}); reported under their own names")
    return LoadedSamples(samples, warnings, rows, bad, root, hashlib.sha256(raw).hexdigest(), revision_found, images)
