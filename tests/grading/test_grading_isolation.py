"""A module in the folder where ``tts grade`` runs cannot change a grade (issue 17, isolation).

An empty ``concurrent.py`` or ``json.py`` next to the user's data used to shadow the standard library inside
the grading workers (they were started with ``python -m``, which puts the current folder first on
``sys.path``): items graded there became "error" and symbolic checks failed. Here a real ``tts grade``
process runs in such a folder, through both worker paths (the grading pool for a large file, the symbolic
pool of an in-process run), and its output must equal a run in a clean folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = "import sys\nfrom tts.cli import main\nsys.exit(main())\n"  # what the `tts` console script does


def _responses(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        kind = i % 4
        if kind == 0:  # plain integers: the fast path
            rows.append({"id": f"i{i}", "response": f"Counting gives {i % 9}.\nAnswer: \\boxed{{{i % 9}}}",
                         "benchmark": "mathvista", "answer_type": "integer", "answer": str(i % 9)})
        elif kind == 1:  # needs SymPy (math-verify) in a worker
            pred = "2\\sqrt{2}" if i % 8 == 1 else "3\\sqrt{2}"
            rows.append({"id": f"s{i}", "response": f"Simplify the root.\nAnswer: \\boxed{{{pred}}}",
                         "answer": "\\sqrt{8}"})
        elif kind == 2:
            rows.append({"id": f"m{i}", "response": "The answer is (B).", "benchmark": "mmmu",
                         "question_type": "multiple-choice", "choices": ["1", "2", "3"], "answer": "B"})
        else:
            rows.append({"id": f"x{i}", "response": "Expanding, f(x) = \\boxed{(x+1)(x-1)}", "answer": "x^2-1",
                         "benchmark": "mathvision"})
    return rows


def _run(cwd: Path, src: Path, out: Path, workers: int) -> subprocess.CompletedProcess:
    launcher = cwd.parent / f"launch-{cwd.name}" / "tts_launch.py"
    launcher.parent.mkdir(exist_ok=True)
    launcher.write_text(LAUNCHER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TTS_GRADING_DEBUG": ""}
    return subprocess.run([sys.executable, str(launcher), "grade", str(src), "--out", str(out), "--workers",
                           str(workers)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("shadow", ["concurrent.py", "json.py"])
def test_a_module_in_the_working_folder_changes_no_grade(tmp_path: Path, shadow: str) -> None:
    src = tmp_path / "responses.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _responses(440)))
    clean, dirty = tmp_path / "clean", tmp_path / "dirty"
    clean.mkdir()
    dirty.mkdir()
    (dirty / shadow).write_text("")
    for workers in (2, 1):  # 440 lines with 2 workers: the grading pool; 1 worker: in-process + symbolic pool
        expected = _run(clean, src, tmp_path / f"clean-{workers}.jsonl", workers)
        assert expected.returncode == 0, expected.stderr[-2000:]
        got = _run(dirty, src, tmp_path / f"dirty-{workers}.jsonl", workers)
        assert got.returncode == 0, got.stderr[-2000:]
        want = (tmp_path / f"clean-{workers}.jsonl").read_text()
        assert (tmp_path / f"dirty-{workers}.jsonl").read_text() == want
        reasons = [json.loads(line)["reason"] for line in want.splitlines()]
        assert not any(r.startswith(("error", "timeout")) for r in reasons)
        assert sum(json.loads(line)["correct"] for line in want.splitlines()) == 110 + 55 + 110 + 110
