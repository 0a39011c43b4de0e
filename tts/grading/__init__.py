"""Answer grading (minimal placeholder of the foundation; the grading issue replaces it).

Extracts the last ``\\boxed{}`` (or an ``Answer:`` line), maps option letters for multiple choice and
compares everything else with math-verify, gold first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tts.records import Grade, Problem


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j].strip()
    return None


def extract_answer(response: str, problem: Problem) -> Extraction:
    boxed = _last_boxed(response)
    if boxed:
        return Extraction(boxed, "boxed")
    m = list(re.finditer(r"answer\s*(?:is|:)\s*(.+)", response, flags=re.IGNORECASE))
    if m:
        return Extraction(m[-1].group(1).strip().rstrip("."), "answer_line")
    return Extraction(None, "none")


def equivalent(pred: str, gold: str, problem: Problem | None = None, *, scoring: str = "strict") -> bool:
    if pred.strip().lower() == gold.strip().lower():
        return True
    if problem is not None and problem.question_type == "multi_choice" and problem.choices:
        letter = pred.strip().strip("().").upper()
        if len(letter) == 1 and "A" <= letter < chr(ord("A") + len(problem.choices)):
            option = problem.choices[ord(letter) - ord("A")]
            return option.strip().lower() == gold.strip().lower() or letter == gold.strip().upper()
        return False
    from math_verify import parse, verify

    try:
        g = parse(f"${gold}$", parsing_timeout=None)
        p = parse(f"${pred}$", parsing_timeout=None)
        return bool(g and p and verify(g, p, timeout_seconds=None))
    except Exception:
        return False


def grade(response: str, problem: Problem, scoring: str = "strict", *, sample_idx: int = 0) -> Grade:
    ext = extract_answer(response, problem)
    if ext.answer is None:
        return Grade(problem.id, sample_idx, None, False, "no answer", scoring)  # type: ignore[arg-type]
    ok = any(equivalent(ext.answer, g, problem, scoring=scoring) for g in problem.golds)
    return Grade(problem.id, sample_idx, ext.answer, ok, "match" if ok else "mismatch", scoring)  # type: ignore[arg-type]


def grade_many(items: Sequence[tuple[str, Problem, int]], scoring: str = "strict", workers: int | None = None,
               progress: bool = False) -> list[Grade]:
    return [grade(text, problem, scoring, sample_idx=idx) for text, problem, idx in items]


def cluster_answers(answers: Sequence[str | None], problem: Problem) -> list[int | None]:
    """Cluster ids of extracted answers by equivalence (None stays None)."""
    reps: list[str] = []
    out: list[int | None] = []
    for a in answers:
        if a is None:
            out.append(None)
            continue
        for i, r in enumerate(reps):
            if equivalent(a, r, problem) or equivalent(r, a, problem):
                out.append(i)
                break
        else:
            reps.append(a)
            out.append(len(reps) - 1)
    return out
