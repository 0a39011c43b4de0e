"""What ``tts grade FILE`` reads: our JSONL lines, or VLMEvalKit's prediction files, as uniform rows.

VLMEvalKit (``vlmeval/inference.py``) writes its predictions as the benchmark's TSV table (minus the
image) with a ``prediction`` column, to ``{model}_{dataset}.xlsx`` by default, or ``.tsv`` / ``.json``
(``PRED_FORMAT``); the columns are the dataset's own:

============================  ==============================================================================
MathVista_MINI                ``question``, ``question_type``, ``answer_type``, ``choices`` (a Python list
                              literal), ``answer`` (the option *text*), ``answer_option``, ``precision``, ``unit``
MathVision(_MINI)             ``question``, ``choices`` (a list literal, empty for open questions), ``answer``
                              (a letter when there are choices)
MathVerse_MINI(_Vision_Only)  ``question`` (options inline after "Choices:"), ``question_for_eval``, ``answer``
MMMU_DEV_VAL / MMMU_TEST      ``question``, option columns ``A``, ``B``, ... (empty for open questions),
                              ``answer``
DynaMath                      ``question``, ``answer_type`` (float | multiple choice | ...), ``answer``
WeMath                        ``question``, option columns ``A``, ``B``, ..., ``answer``
LogicVista                    ``question`` (options inline), ``answer`` ("A, C" for several letters)
============================  ==============================================================================

Every row gets ``response`` (from ``prediction``), ``id`` (from ``index``), ``benchmark`` (from the row, else
the dataset name in the file name, else the columns) and the problem fields :func:`tts.grading.files.
problem_from_line` reads. Cells are read as data: list literals through :func:`ast.literal_eval`, never
``eval``.

Example:
    >>> benchmark_of_file("InternVL3-8B_MathVista_MINI.xlsx"), benchmark_of_file("results.jsonl")
    ('mathvista', None)
"""

from __future__ import annotations

import ast
import json
import math
import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tts.errors import TTSError

#: VLMEvalKit dataset names (as in its prediction file names) → our benchmark names.
VLMEVAL_DATASETS = {
    "MathVista_MINI": "mathvista", "MathVista": "mathvista",
    "MathVision_MINI": "mathvision", "MathVision": "mathvision",
    "MathVerse_MINI_Vision_Only": "mathverse", "MathVerse_MINI_Vision_Dominant": "mathverse",
    "MathVerse_MINI_Vision_Intensive": "mathverse", "MathVerse_MINI_Text_Lite": "mathverse",
    "MathVerse_MINI_Text_Dominant": "mathverse", "MathVerse_MINI": "mathverse",
    "MMMU_DEV_VAL": "mmmu", "MMMU_TEST": "mmmu",
    "DynaMath": "dynamath", "WeMath": "wemath", "LogicVista": "logicvista",
}
TABLE_SUFFIXES = (".xlsx", ".xls", ".tsv", ".csv", ".json")
_OPTION_COLUMNS = tuple(string.ascii_uppercase[:10])
_LETTER = re.compile(r"^[A-J]$")


class SourceError(TTSError, ValueError):
    """A file ``tts grade`` cannot read as responses."""


def benchmark_of_file(path: Path | str) -> str | None:
    """Our benchmark named by a VLMEvalKit prediction file's name (``{model}_{dataset}.xlsx``), if any."""
    stem = Path(path).stem.lower()
    for name in sorted(VLMEVAL_DATASETS, key=len, reverse=True):
        if stem.endswith(name.lower()) or f"_{name.lower()}_" in stem:
            return VLMEVAL_DATASETS[name]
    return None


def _benchmark_of_columns(columns: set[str]) -> str | None:
    if "question_for_eval" in columns:
        return "mathverse"
    if "answer_option" in columns:
        return "mathvista"
    if {"key", "joker"} <= columns:
        return "wemath"
    if "varid" in columns or "qid" in columns:
        return "dynamath"
    return None


def _plain(value: Any) -> Any:
    """A cell as a JSON value: NaN and NaT are None, numpy scalars are Python numbers."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a gold "5" read back from a spreadsheet as 5.0
    if not isinstance(value, str | int | float | bool | list | dict):
        return str(value)
    return value


def _literal_list(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value]
    if not isinstance(value, str) or not value.strip().startswith("[") or len(value) > 20000:
        return None
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return [str(v) for v in parsed] if isinstance(parsed, list | tuple) else None


def vlmeval_row(row: Mapping[str, Any], benchmark: str | None) -> dict[str, Any]:
    """A VLMEvalKit prediction row as the fields ``tts grade`` reads (the original columns kept)."""
    out = {k: _plain(v) for k, v in row.items()}
    if "response" not in out and "prediction" in out:
        p = out["prediction"]
        out["response"] = p if isinstance(p, str) else ("" if p is None else str(p))
    if "id" not in out and out.get("index") is not None:
        out["id"] = str(out["index"])
    bench = str(out.get("benchmark") or benchmark or "").strip().lower()
    if bench:
        out["benchmark"] = bench
    options = [out[c] for c in _OPTION_COLUMNS if out.get(c) is not None]
    if "choices" not in out and options and bench in ("mmmu", "wemath", ""):
        out["choices"] = [str(o) for o in options]
    listed = _literal_list(out.get("choices"))
    if listed is not None:
        out["choices"] = listed
    if bench == "mathvision" and not out.get("question_type"):
        out["question_type"] = "multi_choice" if out.get("choices") else "free_form"
    if bench in ("mmmu", "wemath") and not out.get("question_type"):
        out["question_type"] = "multi_choice" if out.get("choices") else "free_form"
    if bench == "mmmu" and out.get("question_type") == "free_form" and not out.get("answer_type"):
        out["answer_type"] = "text"
    answer = out.get("answer")
    if bench in ("mathverse", "logicvista") and not out.get("question_type"):
        letters = [a.strip() for a in str(answer or "").split(",")]
        multi = bool(letters) and all(_LETTER.match(a) for a in letters)
        out["question_type"] = "multi_choice" if multi else "free_form"
    if out.get("question_type") == "multi_choice" and not out.get("answer_type"):
        out["answer_type"] = "text"
    return out


def _table_rows(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):  # {index: prediction} checkpoint files have no problem fields
            raise SourceError(f"{path}: a JSON object, not a list of rows; give VLMEvalKit's final prediction file")
        if not isinstance(data, list):
            raise SourceError(f"{path}: expected a JSON list of rows")
        return [r if isinstance(r, dict) else {"_not_a_row": r} for r in data]
    import pandas as pd

    try:
        if suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=object)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=object, keep_default_na=True)
    except ImportError as exc:
        raise SourceError(f"reading {path.name} needs {exc.name or 'openpyxl'}: pip install openpyxl") from exc
    except Exception as exc:  # noqa: BLE001 - a broken table is one clear line, not a traceback
        raise SourceError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    frame.columns = [str(c) for c in frame.columns]
    return frame.to_dict("records")


def table_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(row number, row)`` of a VLMEvalKit table (``.xlsx``/``.tsv``/``.csv``/``.json``), uniform rows."""
    rows = _table_rows(path)
    columns = set().union(*(r.keys() for r in rows)) if rows else set()
    benchmark = benchmark_of_file(path) or _benchmark_of_columns(columns)
    first = 1 if path.suffix.lower() == ".json" else 2  # a spreadsheet's row 1 is its header
    for i, row in enumerate(rows):
        if "_not_a_row" in row:
            yield first + i, None
        else:
            yield first + i, vlmeval_row(row, benchmark)


def jsonl_row(row: dict[str, Any], path: Path) -> dict[str, Any]:
    """A JSONL line: ours as it is; a VLMEvalKit row (``prediction``, no ``response``) mapped like a table's."""
    if "response" not in row and "prediction" in row:
        return vlmeval_row(row, benchmark_of_file(path) or _benchmark_of_columns(set(row)))
    return row
