"""``tts grade FILE.jsonl`` and grade_file: foreign JSONL in, the same lines with grades out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tts.cli import grade as grade_cli
from tts.grading import grade_file

LINES = [
    {"id": "mv1", "response": "Answer: \\boxed{B}", "benchmark": "mathvista", "question_type": "multi_choice",
     "answer_type": "text", "choices": ["6cm", "8cm"], "answer": "8cm", "model": "other-tool"},
    {"id": "mv2", "response": "Answer: \\boxed{2.9}", "benchmark": "mathvista", "question_type": "free_form",
     "answer_type": "integer", "answer": "2", "precision": None},
    {"id": "mm1", "response": "The answer is (C).", "benchmark": "MMMU", "question_type": "multiple-choice",
     "choices": "['1', '2', '3']", "answer": "C"},
    {"id": "mm2", "response": "\\boxed{3.43}", "benchmark": "mmmu", "question_type": "open",
     "answer": ["24/7", "3.429"]},
    {"id": "g1", "response": "so x = \\boxed{\\frac{1}{2}}", "answer": "0.5"},
    {"id": "g2", "response": "I don't know", "answer": "7"},
    {"id": "g3", "answer": "7"},
    {"id": "dm", "response": '{"short answer": "2.7183"}', "benchmark": "dynamath", "answer_type": "float",
     "answer": "2.718"},
]


def _write(path: Path, extra: list[str] = ()) -> Path:
    rows = [json.dumps(line) for line in LINES]
    rows[3:3] = list(extra)
    path.write_text("\n".join(rows) + "\n")
    return path


def test_grade_file_keeps_lines_and_adds_grades(tmp_path: Path) -> None:
    src = _write(tmp_path / "responses.jsonl", extra=["{not json", "[1, 2]", ""])
    report = grade_file(src)
    out = [json.loads(line) for line in (tmp_path / "responses.graded.jsonl").read_text().splitlines()]
    assert len(out) == len(LINES) + 2  # the blank line is dropped, the two bad lines are kept as errors
    graded = [row for row in out if "correct" in row]
    assert [row["id"] for row in graded] == [line["id"] for line in LINES]
    by_id = {row["id"]: row for row in graded}
    assert by_id["mv1"]["model"] == "other-tool" and by_id["mv1"]["correct"] is True
    assert by_id["mv1"]["extracted"] == "B" and by_id["mv1"]["reason"] == "match (letter; boxed)"
    assert by_id["mv2"]["correct"] is False
    assert by_id["mm1"]["correct"] is True and by_id["mm2"]["correct"] is True
    assert by_id["g1"]["correct"] is True and by_id["g2"]["reason"] == "no answer"
    assert by_id["g3"]["correct"] is False and "no 'response'" in by_id["g3"]["reason"]
    assert by_id["dm"]["correct"] is True
    assert [row for row in out if "error" in row] == [{"line": 4, "error": "not a JSON object"},
                                                      {"line": 5, "error": "not a JSON object"}]
    assert report.counts == {"mathvista": [1, 2], "mmmu": [2, 2], "generic": [1, 3], "dynamath": [1, 1]}
    assert report.invalid_lines == [4, 5]
    text = report.format()
    assert "mathvista" in text and "50.00%" in text and "2 line(s) were not JSON objects" in text


def test_official_mode_prints_the_fallback_notes(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": "Answer: \\boxed{2.9}", "benchmark": "mathvista",
                               "answer_type": "integer", "answer": "2"}) + "\n")
    report = grade_file(src, out=tmp_path / "o.jsonl", rules="official")
    assert report.counts == {"mathvista": [1, 1]}
    assert any("GPT" in note for note in report.notes)
    row = json.loads((tmp_path / "o.jsonl").read_text())
    assert row["correct"] is True and row["reason"].startswith("official mathvista")


def _app() -> typer.Typer:
    app = typer.Typer()
    grade_cli.register(app)

    @app.callback()
    def _root() -> None:
        """test app"""

    return app


def test_cli_grades_and_prints_accuracy(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl")
    result = CliRunner().invoke(_app(), ["grade", str(src), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    assert "mmmu" in result.output and "100.00%" in result.output
    assert (tmp_path / "out.jsonl").exists()


def test_cli_rejects_an_unknown_scoring(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl")
    result = CliRunner().invoke(_app(), ["grade", str(src), "--rules", "lenient"])
    assert result.exit_code != 0


def test_cli_help_has_an_example() -> None:
    result = CliRunner().invoke(_app(), ["grade", "--help"])
    assert result.exit_code == 0 and "tts grade" in result.output


@pytest.mark.slow
def test_a_large_file_goes_through_the_worker_pool(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    lines = []
    for i in range(450):
        gold = str(i % 17)
        response = f"Counting gives {gold}.\nAnswer: \\boxed{{{gold if i % 3 else i % 5}}}"
        lines.append(json.dumps({"id": f"p{i}", "response": response, "benchmark": "mathvista",
                                 "answer_type": "integer", "answer": gold}))
    src.write_text("\n".join(lines) + "\n")
    report = grade_file(src, workers=2)
    out = [json.loads(x) for x in (tmp_path / "big.graded.jsonl").read_text().splitlines()]
    assert [row["id"] for row in out] == [f"p{i}" for i in range(450)]
    expected = sum(1 for i in range(450) if i % 3 or str(i % 5) == str(i % 17))
    assert report.counts["mathvista"] == [expected, 450]


def test_an_interrupted_run_leaves_no_partial_output(tmp_path: Path, monkeypatch) -> None:
    from tts.grading import files

    src = _write(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    out.write_text('{"previous": true}\n')

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "grade_many", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grade_file(src, out=out)
    assert out.read_text() == '{"previous": true}\n'
    monkeypatch.undo()
    grade_file(src, out=out)
    assert len(out.read_text().splitlines()) == len(LINES)


def test_pool_falls_back_in_process_when_no_worker_can_start(monkeypatch) -> None:
    from grading_helpers import make_problem

    from tts.grading import grade_many, grader, sandbox

    def cannot_start(self):
        raise sandbox.WorkerError("no processes here")

    monkeypatch.setattr(sandbox.Worker, "start", cannot_start)
    monkeypatch.setattr(grader, "POOL_THRESHOLD", 2)
    items = [("\\boxed{5}", make_problem("generic", "5"), i) for i in range(5)]
    assert [g.correct for g in grade_many(items, workers=2)] == [True] * 5
