"""Agreement with a careful human grader on realistic responses across the seven benchmarks (issue 18).

``data/human_verdicts.jsonl`` holds InternVL-style chain-of-thought responses, each with the verdict a
careful human grader gives it (``human``), the family of difficulty it exercises and, where the verdict
needs one, the reason (``why``). How it was built: see ``data/README.md``. The strict grader must agree on
at least 99% of the verdicts; the disagreements are printed so a regression names its cases.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tts.grading import grade
from tts.grading.files import problem_from_line

DATA = Path(__file__).parent / "data" / "human_verdicts.jsonl"
TARGET = 0.99


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_covers_every_benchmark_and_family() -> None:
    rows = _rows()
    benchmarks = Counter(r["benchmark"] for r in rows)
    assert set(benchmarks) == {"mathvista", "mathvision", "mmmu", "mathverse", "dynamath", "wemath", "logicvista"}
    assert len(rows) >= 300 and min(benchmarks.values()) >= 20
    assert 0.3 < sum(r["human"] for r in rows) / len(rows) < 0.8  # both verdicts well represented


def test_strict_grading_agrees_with_the_human_verdicts() -> None:
    rows = _rows()
    wrong = []
    for i, row in enumerate(rows):
        g = grade(row["response"], problem_from_line(row, i))
        if g.correct is not row["human"]:
            wrong.append(f"{row['id']}: human {row['human']}, grader {g.correct} ({g.reason}; {g.extracted!r})")
    agreement = 1 - len(wrong) / len(rows)
    print(f"agreement with the human verdicts: {100 * agreement:.1f}% ({len(rows) - len(wrong)}/{len(rows)})")
    assert agreement >= TARGET, "\n".join(wrong)
