"""Grade any file of responses (``tts grade FILE``): how outputs of other tools get graded.

A JSONL line carries ``response`` plus the problem fields ``benchmark``, ``question_type``, ``answer_type``,
``choices``, ``precision``, ``unit``, ``answer`` (and optionally ``id``, ``question``, ``sample_idx``); other
keys are kept as they are. VLMEvalKit's prediction files (``.xlsx``, ``.tsv``, ``.csv``, ``.json`` tables, or
JSONL rows with ``prediction``) are read through :mod:`tts.grading.sources`. A line without ``benchmark``
is graded by generic math equivalence with ``answer_type`` defaulting to ``expression``. Each line is
written back (JSONL) with ``extracted``, ``correct``, ``reason`` and ``rules`` added; a line that is not a
JSON object is written back as ``{"line": N, "error": ...}`` so line numbers stay aligned, and never stops
the run. A file in which no line has a response is refused (:class:`GradeFileError`).

Example:
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.jsonl").write_text(json.dumps({"response": "Answer: \\\\boxed{B}", "benchmark": "mmmu",
    ...     "question_type": "multi_choice", "choices": ["1", "2"], "answer": "B"}) + "\\n")
    >>> report = grade_file(d / "in.jsonl")
    >>> report.accuracy["mmmu"], json.loads((d / "in.graded.jsonl").read_text())["correct"]
    (1.0, True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.errors import TTSError
from tts.grading.official import official_fallback_note
from tts.grading.pool import Grader, progress_bar
from tts.grading.sources import TABLE_SUFFIXES, jsonl_row, table_lines
from tts.jsonl import repair_tail
from tts.records import AnswerType, GradingRules, Problem, QuestionType

GENERIC = "generic"
_QUESTION_TYPES: dict[str, QuestionType] = {
    "multi_choice": "multi_choice", "multiple_choice": "multi_choice", "multiple-choice": "multi_choice",
    "multi-choice": "multi_choice", "multiple choice": "multi_choice", "mc": "multi_choice",
    "free_form": "free_form", "free-form": "free_form", "open": "free_form", "short-answer": "free_form",
    "free form": "free_form",
}
_ANSWER_TYPES: dict[str, AnswerType] = {
    "text": "text", "integer": "integer", "int": "integer", "float": "float", "list": "list",
    "expression": "expression", "multiple choice": "text", "single answer": "text",
}


@dataclass
class GradeReport:
    """What a ``grade_file`` run did: accuracy per benchmark, the output path, bad lines, judge notes."""

    out: Path
    rules: GradingRules
    counts: dict[str, list[int]] = field(default_factory=dict)  # benchmark -> [correct, total]
    invalid_lines: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    resumed: int = 0  # lines kept from an interrupted earlier run
    flagged: list[int] = field(default_factory=list)  # lines whose text could not be encoded as it was

    @property
    def accuracy(self) -> dict[str, float]:
        return {b: (c / n if n else 0.0) for b, (c, n) in sorted(self.counts.items())}

    def format(self) -> str:
        width = max([len(b) for b in self.counts] + [9])
        lines = [f"{'benchmark':<{width}}  {'correct':>7}  {'total':>6}  accuracy ({self.rules})"]
        total_c = total_n = 0
        for bench, (c, n) in sorted(self.counts.items()):
            lines.append(f"{bench:<{width}}  {c:>7}  {n:>6}  {100 * c / n if n else 0:6.2f}%")
            total_c, total_n = total_c + c, total_n + n
        if len(self.counts) > 1:
            lines.append(f"{'all':<{width}}  {total_c:>7}  {total_n:>6}  {100 * total_c / total_n if total_n else 0:6.2f}%")
        if self.invalid_lines:
            shown = ", ".join(map(str, self.invalid_lines[:10])) + (" ..." if len(self.invalid_lines) > 10 else "")
            lines.append(f"{len(self.invalid_lines)} line(s) were not JSON objects and were not graded: {shown}")
        if self.flagged:
            shown = ", ".join(map(str, self.flagged[:10])) + (" ..." if len(self.flagged) > 10 else "")
            lines.append(f"{len(self.flagged)} line(s) held text that UTF-8 cannot encode (graded with U+FFFD, "
                         f"written escaped, flagged in 'grade_flags'): {shown}")
        lines.extend(f"note: {n}" for n in self.notes)
        if self.resumed:
            lines.append(f"resumed: {self.resumed} line(s) were already graded by an interrupted run")
        lines.append(f"graded lines written to {self.out}")
        return "\n".join(lines)


def _as_choices(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return ()
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def _as_answer(value: Any) -> str | tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return str(value)


def problem_from_line(row: Mapping[str, Any], lineno: int) -> Problem:
    """The :class:`Problem` a foreign JSONL line describes (lenient about spellings of types)."""
    benchmark = str(row.get("benchmark") or "").strip().lower()
    choices = _as_choices(row.get("choices"))
    raw_atype = str(row.get("answer_type") or "").strip().lower()
    qtype = _QUESTION_TYPES.get(str(row.get("question_type") or "").strip().lower())
    if qtype is None:
        qtype = "multi_choice" if choices or raw_atype == "multiple choice" else "free_form"
    atype = _ANSWER_TYPES.get(raw_atype, "expression")
    if not benchmark and row.get("answer_type") is None:
        atype = "expression"
    precision = row.get("precision")
    try:
        precision = None if precision in (None, "") else int(float(precision))
    except (TypeError, ValueError):
        precision = None
    unit = row.get("unit")
    return Problem(
        id=str(row.get("id", row.get("problem_id", row.get("pid", f"line{lineno}")))),
        benchmark=benchmark or GENERIC,
        split=str(row.get("split") or ""),
        question=str(row.get("question") or row.get("query") or ""),
        choices=choices,
        answer=_as_answer(row.get("answer")),
        question_type=qtype,
        answer_type=atype,
        precision=precision,
        unit=None if unit is None else str(unit),
        meta={"dynamath_answer_type": row.get("dynamath_answer_type") or raw_atype} if benchmark == "dynamath" else {},
    )


class GradeFileError(TTSError, ValueError):  # noqa: N818 - the project's user-error naming
    """The output path holds something that is not a graded copy of the input (it is never overwritten)."""


#: Lines graded and written (flushed, fsynced) together: what a kill may cost.
BATCH = 256
UNENCODABLE = "unencodable_text"
INVALID_UTF8 = "invalid_utf8"
GRADE_KEYS = ("extracted", "correct", "reason", "rules")


@dataclass
class _Line:
    """One non-blank input line: its number, its object (None if not a JSON object) and flags."""

    lineno: int
    row: dict[str, Any] | None
    flags: list[str] = field(default_factory=list)
    problem: Problem | None = None
    error: str | None = None

    @property
    def item(self) -> tuple[str, Problem, int] | None:
        if self.row is None or self.problem is None:
            return None
        response = self.row.get("response")
        sample_idx = self.row.get("sample_idx")
        return (response if isinstance(response, str) else "", self.problem,
                sample_idx if isinstance(sample_idx, int) and sample_idx >= 0 else 0)


def _read_lines(path: Path) -> Iterator[_Line]:
    if path.suffix.lower() in TABLE_SUFFIXES:
        for lineno, row in table_lines(path):
            yield _Line(lineno, row)
        return
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            flags = []
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text, flags = raw.decode("utf-8", "replace"), [INVALID_UTF8]
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError:
                row = None
            yield _Line(lineno, jsonl_row(row, path) if isinstance(row, dict) else None, flags)


def _prepare(line: _Line) -> None:
    if line.row is None:
        return
    try:
        line.problem = problem_from_line(line.row, line.lineno)
    except Exception as exc:  # noqa: BLE001 - a malformed line is reported, never fatal
        line.error = f"error: {exc}"


def _encode(obj: dict[str, Any]) -> tuple[bytes, bool]:
    """One output line; text UTF-8 cannot encode (a lone surrogate) is written as JSON escapes (lossless)."""
    text = json.dumps(obj, ensure_ascii=False, default=str)
    try:
        return (text + "\n").encode("utf-8"), False
    except UnicodeEncodeError:
        return (json.dumps(obj, ensure_ascii=True, default=str) + "\n").encode("ascii"), True


def _output(line: _Line, grade: Any, rules: GradingRules) -> dict[str, Any]:
    if line.row is None:
        return {"line": line.lineno, "error": "not a JSON object"}
    row = dict(line.row)
    if line.error is not None or grade is None:
        row.update(extracted=None, correct=False, reason=line.error or "error: not graded", rules=rules)
    else:
        reason = grade.reason if isinstance(row.get("response"), str) else "error: no 'response' string on this line"
        row.update(extracted=grade.extracted, correct=grade.correct, reason=reason, rules=rules)
    if line.flags:
        row["grade_flags"] = list(line.flags)
    return row


def _same_input(out_row: Any, line: _Line, rules: GradingRules) -> bool:
    if line.row is None:
        return out_row == {"line": line.lineno, "error": "not a JSON object"}
    if not isinstance(out_row, dict) or out_row.get("rules") != rules:
        return False
    return all(out_row.get(k) == v for k, v in line.row.items() if k not in GRADE_KEYS and k != "grade_flags")


def _looks_graded(out_row: Any) -> bool:
    return isinstance(out_row, dict) and (("correct" in out_row and "reason" in out_row) or set(out_row) == {"line", "error"})


def _resume(out: Path, lines: Sequence[_Line], rules: GradingRules) -> list[dict[str, Any]]:
    """The graded lines an interrupted run of the same command left in ``out`` (its torn last line dropped).

    A graded file of other input or other rules is stale and graded again from the start; anything else
    in ``out`` is refused, never overwritten.
    """
    if not out.exists() or out.stat().st_size == 0:
        return []
    repair_tail(out)
    kept: list[dict[str, Any]] = []
    stale = False
    with open(out, "rb") as f:
        for i, raw in enumerate(f):
            try:
                out_row = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                out_row = None
            if not _looks_graded(out_row):
                raise GradeFileError(f"{out} exists and is not a graded JSONL file; choose another --out or remove it")
            if stale or i >= len(lines) or not _same_input(out_row, lines[i], rules):
                stale = True
                continue
            kept.append(out_row)
    return [] if stale else kept


def grade_file(
    path: Path | str,
    out: Path | str | None = None,
    rules: GradingRules = "strict",
    workers: int | None = None,
    progress: bool = False,
    batch_size: int = BATCH,
) -> GradeReport:
    """Grade every line of the JSONL ``path`` into ``out`` (default ``*.graded.jsonl``), batch by batch.

    Graded lines are appended in input order as their batch completes (flushed and fsynced), so a killed
    run loses at most one batch; running the same command again keeps what ``out`` already holds and goes
    on from there, giving the same file a clean run gives.
    """
    path = Path(path)
    out = Path(out) if out is not None else path.with_name(path.stem + ".graded.jsonl")
    lines = list(_read_lines(path))
    if not any(line.row is not None and isinstance(line.row.get("response"), str) for line in lines):
        raise GradeFileError(f"no line of {path} has a 'response' (or VLMEvalKit's 'prediction'): nothing to grade")
    for line in lines:
        _prepare(line)
    report = GradeReport(out=out, rules=rules)
    kept = _resume(out, lines, rules)
    report.resumed = len(kept)
    results: list[dict[str, Any]] = list(kept)
    todo = lines[len(kept):]
    n_items = sum(line.item is not None for line in todo)
    with Grader(rules, workers, expected=n_items) as grader, progress_bar(n_items, progress) as advance:
        grader.skip([it for line in lines[: len(kept)] if (it := line.item) is not None])
        mode = "ab" if kept else "wb"
        with open(out, mode) as f:
            for start in range(0, len(todo), max(1, batch_size)):
                batch = todo[start : start + batch_size]
                items = [it for line in batch if (it := line.item) is not None]
                grades = iter(grader.grade(items, advance))
                data = []
                for line in batch:
                    row = _output(line, next(grades) if line.item is not None else None, rules)
                    encoded, escaped = _encode(row)
                    if escaped:
                        row.setdefault("grade_flags", []).append(UNENCODABLE)
                        encoded, _ = _encode(row)
                    data.append(encoded)
                    results.append(row)
                f.write(b"".join(data))
                f.flush()
                os.fsync(f.fileno())
    for line, row in zip(lines, results, strict=True):
        if line.row is None:
            report.invalid_lines.append(line.lineno)
            continue
        counts = report.counts.setdefault(line.problem.benchmark if line.problem else str(line.row.get("benchmark") or GENERIC), [0, 0])
        counts[0] += int(bool(row.get("correct")))
        counts[1] += 1
        if row.get("grade_flags"):
            report.flagged.append(line.lineno)
    if rules == "official":
        report.notes = [n for b in sorted(report.counts) if (n := official_fallback_note(b))]
    return report
