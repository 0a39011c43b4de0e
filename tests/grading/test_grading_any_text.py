"""Any text survives grading (issue 17): lone surrogates and invalid UTF-8 never fail a line or a file.

A lone surrogate (``"\\ud800"``, as a JSON escape in a file) used to stop ``tts grade FILE`` with exit 2 after
grading everything, leaving no output and a ``.tmp`` behind. Now such text is graded with U+FFFD in its
place, written back as the JSON escape it was (nothing is lost), and the line is flagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from grading_helpers import make_problem
from typer.testing import CliRunner

from tts.cli import grade as grade_cli
from tts.grading import grade, grade_file, grade_many

GOOD = {"id": "ok", "response": "Answer: \\boxed{7}", "answer": "7"}
BAD = {"id": "bad\ud800", "response": "so x = 7\ud800.\nAnswer: \\boxed{7}", "answer": "7", "note": "\udfff"}


def _app() -> typer.Typer:
    app = typer.Typer()
    grade_cli.register(app)

    @app.callback()
    def _root() -> None:
        """test app"""

    return app


def test_grade_of_a_surrogate_is_an_ordinary_grade() -> None:
    g = grade("The value is \ud800 7.\nAnswer: \\boxed{7\ud800}", make_problem("generic", "7"))
    (g.extracted or "").encode("utf-8")  # the grade can be written anywhere
    assert g.reason.startswith(("match", "mismatch")), g
    g = grade("Answer: \\boxed{7}\ud800", make_problem("generic", "7"))
    assert g.correct is True


def test_tts_grade_file_with_a_lone_surrogate_grades_every_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes((json.dumps(GOOD) + "\n" + json.dumps(BAD) + "\n").encode("ascii")
                    + b'{"id": "latin1", "response": "Answer: \\\\boxed{7} \xe9", "answer": "7"}\n')
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(_app(), ["grade", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_bytes().decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["ok", "bad\ud800", "latin1"]  # the escape round-trips: nothing lost
    assert [r["correct"] for r in rows] == [True, True, True]
    assert "grade_flags" not in rows[0]
    assert rows[1]["grade_flags"] == ["unencodable_text"] and rows[1]["note"] == "\udfff"
    assert rows[2]["grade_flags"] == ["invalid_utf8"]
    assert "3 line(s)" not in result.output and "2 line(s) held text" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary file left


@pytest.mark.slow
def test_surrogates_cross_the_worker_pipes(tmp_path: Path) -> None:
    items = [("Answer: \\boxed{7}\ud800" if i % 2 else "Answer: \\boxed{7}", make_problem("generic", "7"), i)
             for i in range(420)]
    assert all(g.correct for g in grade_many(items, workers=2))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({**BAD, "id": f"b{i}"}) + "\n" for i in range(420)))
    report = grade_file(src, workers=2)
    assert report.counts == {"generic": [420, 420]} and len(report.flagged) == 420
