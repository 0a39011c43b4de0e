"""Helpers for the grading tests: problems in each benchmark's shape, as the loaders fill them.

A plain module (not a conftest) so that ``from grading_helpers import make_problem`` never collides with
another directory's ``conftest``.
"""

from __future__ import annotations

from tts.records import Problem


def make_problem(benchmark: str, answer, **kw) -> Problem:
    fields = {"id": kw.pop("id", f"{benchmark}-1"), "benchmark": benchmark, "split": "test",
              "question": kw.pop("question", "Question?"), "answer": answer}
    fields.update(kw)
    return Problem(**fields)
