"""Grade any JSONL of responses (``tts grade``): how outputs of other tools get graded.

Each line carries ``response`` plus the problem fields ``benchmark``, ``question_type``, ``answer_type``,
``choices``, ``precision``, ``unit``, ``answer`` (and optionally ``id``, ``question``, ``sample_idx``); other
keys are kept as they are. A line without ``benchmark`` is graded by generic math equivalence with
``answer_type`` defaulting to ``expression``. Each line is written back with ``extracted``, ``correct`` and
``reason`` added; a line that is not a JSON object is written back as ``{"line": N, "error": ...}`` so line
numbers stay aligned, and never stops the run.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.grading.grader import grade_many
from tts.grading.official import official_fallback_note
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
        lines.extend(f"note: {n}" for n in self.notes)
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


def grade_file(
    path: Path | str,
    out: Path | str | None = None,
    rules: GradingRules = "strict",
    workers: int | None = None,
    progress: bool = False,
) -> GradeReport:
    """Grade every line of the JSONL ``path``; write them with grades to ``out`` (default ``*.graded.jsonl``)."""
    path = Path(path)
    out = Path(out) if out is not None else path.with_name(path.name.removesuffix(".jsonl") + ".graded.jsonl")
    rows: list[dict[str, Any] | None] = []
    items: list[tuple[str, Problem, int]] = []
    where: list[int] = []
    report = GradeReport(out=out, rules=rules)
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                row = None
            if not isinstance(row, dict):
                rows.append(None)
                report.invalid_lines.append(lineno)
                continue
            try:
                problem = problem_from_line(row, lineno)
            except Exception as exc:  # noqa: BLE001 - a malformed line is reported, never fatal
                row.update(extracted=None, correct=False, reason=f"error: {exc}")
                rows.append(row)
                report.counts.setdefault(str(row.get("benchmark") or GENERIC), [0, 0])[1] += 1
                continue
            rows.append(row)
            response = row.get("response")
            sample_idx = row.get("sample_idx")
            items.append((response if isinstance(response, str) else "", problem,
                          sample_idx if isinstance(sample_idx, int) and sample_idx >= 0 else 0))
            where.append(len(rows) - 1)
    grades = grade_many(items, rules=rules, workers=workers, progress=progress)
    for pos, (_, problem, _), g in zip(where, items, grades, strict=True):
        row = rows[pos]
        assert row is not None
        reason = g.reason if isinstance(row.get("response"), str) else "error: no 'response' string on this line"
        row.update(extracted=g.extracted, correct=g.correct, reason=reason)
        counts = report.counts.setdefault(problem.benchmark, [0, 0])
        counts[0] += int(g.correct)
        counts[1] += 1
    if rules == "official":
        report.notes = [n for b in sorted(report.counts) if (n := official_fallback_note(b))]
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        invalid = iter(report.invalid_lines)
        for row in rows:
            line = row if row is not None else {"line": next(invalid), "error": "not a JSON object"}
            f.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return report
