"""Helpers for the grading tests: problems in each benchmark's shape, as the loaders fill them."""

from __future__ import annotations

import pytest

from tts.records import Problem


def make_problem(benchmark: str, answer, **kw) -> Problem:
    fields = {"id": kw.pop("id", f"{benchmark}-1"), "benchmark": benchmark, "split": "test",
              "question": kw.pop("question", "Question?"), "answer": answer}
    fields.update(kw)
    return Problem(**fields)


@pytest.fixture()
def problem():
    return make_problem
