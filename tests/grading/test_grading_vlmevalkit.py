"""``tts grade`` on VLMEvalKit's prediction files (issue 19).

VLMEvalKit writes ``{model}_{dataset}.xlsx`` (or ``.tsv``/``.json`` with ``PRED_FORMAT``): the dataset's TSV
columns plus ``prediction``. The rows below use each dataset's real columns (read from VLMEvalKit's
``vlmeval/dataset`` code): MathVista's ``choices`` list literal with an option-text ``answer``, MathVision's
letter ``answer``, MMMU's and WeMath's option columns (empty ``A`` for MMMU's open questions), MathVerse's
inline options, DynaMath's ``answer_type``, LogicVista's "A, C". Such a file used to grade 0% with exit 0.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from tts.cli import grade as grade_cli
from tts.grading import grade_file
from tts.grading.files import GradeFileError

END = "Let me think step by step.\n\n"
ROWS = {
    "MathVista_MINI": [
        {"index": 1, "question": "What is the length of AB?", "question_type": "multi_choice", "answer_type": "text",
         "choices": "['6cm', '8cm', '10cm']", "answer": "8cm", "answer_option": "B", "precision": None,
         "unit": None, "prediction": END + "AB = 8 cm.\nAnswer: \\boxed{B}"},
        {"index": 2, "question": "How many cats?", "question_type": "free_form", "answer_type": "integer",
         "choices": "[]", "answer": "2", "answer_option": None, "precision": None, "unit": None,
         "prediction": END + "Answer: \\boxed{3}"},
        {"index": 3, "question": "Slope?", "question_type": "free_form", "answer_type": "float", "choices": "[]",
         "answer": "1.45", "answer_option": None, "precision": 2.0, "unit": None, "prediction": "Answer: 1.449"},
    ],
    "MathVision": [
        {"index": 10, "question": "Which net folds into a cube?", "choices": "['A', 'B', 'C', 'D', 'E']",
         "answer": "D", "category": "solid geometry", "prediction": END + "Answer: \\boxed{D}"},
        {"index": 11, "question": "Find x.", "choices": "[]", "answer": "2\\sqrt{5}", "category": "algebra",
         "prediction": END + "x = √20.\nAnswer: \\boxed{√20}"},
    ],
    "MMMU_DEV_VAL": [
        {"index": "validation_Economics_1", "question": "Equilibrium price?", "A": "$5", "B": "$10", "C": "$15",
         "D": None, "answer": "C", "category": "Economics", "split": "validation",
         "prediction": "The curves cross at $15, which is C."},
        {"index": "validation_Math_15", "question": "Ratio?", "A": None, "B": None, "C": None, "D": None,
         "answer": "3.429", "category": "Math", "split": "validation", "prediction": "Answer: \\boxed{24/7}"},
    ],
    "MathVerse_MINI_Vision_Only": [
        {"index": 100, "question": "Find angle ACD.\nChoices:\nA:30°\nB:40°\nC:50°\nD:60°",
         "question_for_eval": "Find angle ACD.", "answer": "B", "prediction": END + "Answer: \\boxed{40°}"},
        {"index": 101, "question": "Find the bearing of B from A.", "question_for_eval": "Find the bearing.",
         "answer": "N 40° E", "prediction": END + "Answer: \\boxed{N 40° W}"},
    ],
    "DynaMath": [
        {"index": 5, "qid": 1, "varid": 1, "question": "Find the distance.", "answer_type": "float",
         "answer": "1.414", "subject": "geometry", "knowledge_level": "high school",
         "prediction": '{"solution": "d = sqrt(2)", "short answer": "1.4142"}'},
        {"index": 6, "qid": 2, "varid": 1, "question": "Which curve?\n(A) f (B) g", "answer_type": "multiple choice",
         "answer": "B", "subject": "analysis", "knowledge_level": "college", "prediction": "Answer: \\boxed{A}"},
    ],
    "WeMath": [
        {"index": 7, "ID": "1@3steps_1", "key": "1@3steps", "question": "Length of the rectangle?", "A": "3 cm",
         "B": "4 cm", "C": "5 cm", "D": "6 cm", "answer": "C", "joker": "", "prediction": "<Answer>: C. 5 cm"},
    ],
    "LogicVista": [
        {"index": 8, "question": "Which figures continue the pattern?\nA: 1\nB: 2\nC: 3\nD: 4", "answer": "A, C",
         "prediction": END + "Figures 1 and 3 keep the rotation.\nAnswer: \\boxed{AC}"},
    ],
}
EXPECTED = {"mathvista": [2, 3], "mathvision": [2, 2], "mmmu": [2, 2], "mathverse": [1, 2], "dynamath": [1, 2],
            "wemath": [1, 1], "logicvista": [1, 1]}
BENCH = {"MathVista_MINI": "mathvista", "MathVision": "mathvision", "MMMU_DEV_VAL": "mmmu",
         "MathVerse_MINI_Vision_Only": "mathverse", "DynaMath": "dynamath", "WeMath": "wemath",
         "LogicVista": "logicvista"}


def _write(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False, encoding="utf-8", quoting=csv.QUOTE_ALL)  # as VLMEvalKit dumps
    elif path.suffix == ".json":
        path.write_text(json.dumps(frame.astype(object).where(frame.notna(), None).to_dict("records")))
    else:
        path.write_text("".join(json.dumps({k: v for k, v in r.items()}) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".tsv", ".json", ".jsonl"])
@pytest.mark.parametrize("dataset", list(ROWS))
def test_prediction_files_of_every_dataset_and_format(tmp_path: Path, dataset: str, suffix: str) -> None:
    src = _write(tmp_path / f"InternVL3-8B_{dataset}{suffix}", ROWS[dataset])
    report = grade_file(src)
    bench = BENCH[dataset]
    assert report.counts == {bench: EXPECTED[bench]}
    out = [json.loads(x) for x in (tmp_path / f"InternVL3-8B_{dataset}.graded.jsonl").read_text().splitlines()]
    assert [str(r["id"]) for r in out] == [str(r["index"]) for r in ROWS[dataset]]
    assert all(r["prediction"] == r["response"] for r in out)


def test_the_benchmark_is_read_from_the_columns_when_the_name_does_not_say(tmp_path: Path) -> None:
    src = _write(tmp_path / "predictions.xlsx", ROWS["MathVista_MINI"])
    assert grade_file(src).counts == {"mathvista": [2, 3]}


def _app() -> typer.Typer:
    app = typer.Typer()
    grade_cli.register(app)

    @app.callback()
    def _root() -> None:
        """test app"""

    return app


def test_a_file_without_any_response_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "answers.jsonl"
    src.write_text(json.dumps({"id": 1, "answer": "7", "output": "7"}) + "\n")
    with pytest.raises(GradeFileError, match="nothing to grade"):
        grade_file(src)
    result = CliRunner().invoke(_app(), ["grade", str(src)])
    assert result.exit_code != 0
    assert not (tmp_path / "answers.graded.jsonl").exists()


def test_the_tts_command_refuses_it_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import sys

    from tts.cli import main

    src = tmp_path / "answers.jsonl"
    src.write_text(json.dumps({"id": 1, "answer": "7"}) + "\n")
    monkeypatch.setattr(sys, "argv", ["tts", "grade", str(src)])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nothing to grade" in err and "prediction" in err


def test_cli_grades_a_vlmevalkit_spreadsheet(tmp_path: Path) -> None:
    src = _write(tmp_path / "InternVL3-8B_LogicVista.xlsx", ROWS["LogicVista"] * 3)
    result = CliRunner().invoke(_app(), ["grade", str(src)])
    assert result.exit_code == 0, result.output
    assert "logicvista" in result.output and "100.00%" in result.output
