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


def _clean_run(tmp_path: Path, src: Path, **kwargs) -> bytes:
    clean = tmp_path / "clean.jsonl"
    grade_file(src, out=clean, **kwargs)
    return clean.read_bytes()


def _many_lines(path: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        line = dict(LINES[i % len(LINES)])
        line["id"] = f"{line['id']}-{i}"
        rows.append(json.dumps(line))
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("rules", ["strict", "official"])
def test_an_interrupted_run_resumes_to_the_same_file(tmp_path: Path, monkeypatch, rules: str) -> None:
    from tts.grading import files, pool

    src = _many_lines(tmp_path / "in.jsonl", 100)
    mmmu = {"response": "I am not sure.", "benchmark": "mmmu", "question_type": "multiple-choice",
            "choices": ["1", "2", "3", "4"], "answer": "B"}  # official: MMMU's seeded random letter
    with open(src, "a") as f:
        f.writelines(json.dumps({**mmmu, "id": f"r{i}"}) + "\n" for i in range(30))
    expected = _clean_run(tmp_path, src, rules=rules, batch_size=16)
    out = tmp_path / "out.jsonl"
    real, calls = pool.Grader.grade, []

    def interrupted(self, items, advance=lambda k: None):
        calls.append(len(items))
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(self, items, advance)

    monkeypatch.setattr(pool.Grader, "grade", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grade_file(src, out=out, rules=rules, batch_size=16)
    monkeypatch.undo()
    partial = out.read_bytes()
    assert partial.count(b"\n") == 3 * 16 and expected.startswith(partial)
    with open(out, "ab") as f:
        f.write(b'{"id": "torn')  # a kill in the middle of a write leaves a partial last line
    report = files.grade_file(src, out=out, rules=rules, batch_size=16)
    assert report.resumed == 3 * 16
    assert out.read_bytes() == expected


def test_a_file_that_is_not_graded_output_is_never_overwritten(tmp_path: Path) -> None:
    from tts.grading.files import GradeFileError

    src = _write(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    out.write_text('{"previous": true}\n')
    with pytest.raises(GradeFileError):
        grade_file(src, out=out)
    assert out.read_text() == '{"previous": true}\n'


def test_stale_graded_output_is_graded_again(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    grade_file(src, out=out, rules="official")
    report = grade_file(src, out=out)  # other rules: nothing is reused
    assert report.resumed == 0
    assert {json.loads(x)["rules"] for x in out.read_text().splitlines()} == {"strict"}
    again = grade_file(src, out=out)  # the same command on a complete output: nothing to do
    assert again.resumed == len(LINES) and again.counts == report.counts


@pytest.mark.slow
def test_kill_9_mid_file_then_the_same_command_gives_a_clean_run(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    src = tmp_path / "in.jsonl"
    rows = [{"id": f"e{i}", "response": f"Expanding gives \\boxed{{x^2 + {i % 7}x}}", "answer": f"x(x+{i % 5})"}
            for i in range(1500)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    launcher = tmp_path / "bin" / "tts_launch.py"
    launcher.parent.mkdir()
    launcher.write_text("import sys\nfrom tts.cli import main\nsys.exit(main())\n")
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = tmp_path / "out.jsonl"
    command = [sys.executable, str(launcher), "grade", str(src), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.stat().st_size > 0:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make the input longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = out.read_bytes().count(b"\n")
    assert 0 < partial < len(rows)
    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed:" in again.stdout
    clean = tmp_path / "clean.jsonl"
    subprocess.run([*command[:4], "--out", str(clean), "--workers", "1"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=600)
    assert out.read_bytes() == clean.read_bytes()


def test_pool_falls_back_in_process_when_no_worker_can_start(monkeypatch) -> None:
    from grading_helpers import make_problem

    from tts.grading import grade_many, pool, sandbox

    def cannot_start(self):
        raise sandbox.WorkerError("no processes here")

    monkeypatch.setattr(sandbox.Worker, "start", cannot_start)
    monkeypatch.setattr(pool, "POOL_THRESHOLD", 2)
    items = [("\\boxed{5}", make_problem("generic", "5"), i) for i in range(5)]
    assert [g.correct for g in grade_many(items, workers=2)] == [True] * 5
