"""``tts doctor``: every kind of damage found with its line number; ``--repair`` quarantines it, deletes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tts.doctor import doctor
from tts.images import ImageStore
from tts.records import Grade, Problem, Rollout, StepScores
from tts.rundir import RunDir
from tts.runlock import RunBusy


def _run(path: Path) -> RunDir:
    from PIL import Image

    run = RunDir.open(path)
    run.bind("sampling", {"n": 3})
    run.bind("critics.c", {"model": "m"})
    ref = ImageStore(run.path).put(Image.new("RGB", (4, 4), "red"))
    run.append([Problem("q0", "b", "s", "what?", images=(ref,), answer="1"), Problem("q1", "b", "s", "and?", answer="2")])
    rollouts = [Rollout(p, i, f"{p} text {i}", "stop", 1, 1, 0.1, "m", "e") for p in ("q0", "q1") for i in range(3)]
    run.append(rollouts)
    run.append([StepScores(r.problem_id, r.sample_idx, "c", ("a",), (0.5,), text_hash=r.text_hash) for r in rollouts],
               critic="c")
    run.append([Grade(r.problem_id, r.sample_idx, "1", True, "ok", text_hash=r.text_hash) for r in rollouts])
    return run


def _tree(path: Path) -> dict:
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _damage(run: RunDir) -> dict[str, bytes]:
    """Five kinds of damage: a garbage line mid-file, a duplicate, a stale score (its rollout edited), a
    line another critic's, a partial last line, and a temporary file; returns the bad lines by file."""
    rollouts = run.file("rollouts").read_bytes().splitlines(keepends=True)
    garbage = b'{"problem_id": "q0", "sample_idx": 1, \x00garbage\n'
    rollouts[1] = garbage  # a mid-file line destroyed (q0#1 is lost with it)
    rollouts[4] = rollouts[4].replace(b"q1 text 1", b"q1 text 1, edited by hand")
    run.file("rollouts").write_bytes(b"".join(rollouts))
    grades = run.file("grades").read_bytes().splitlines(keepends=True)
    run.file("grades").write_bytes(b"".join(grades) + grades[0] + b'{"problem_id": "q1", "sam')
    foreign = StepScores("q1", 2, "other", ("a",), (0.9,)).to_line().encode() + b"\n"
    with open(run.file("scores", "c"), "ab") as f:
        f.write(foreign)
    (run.path / ".manifest.json.tmp-99999").write_bytes(b"{")
    stale = run.file("scores", "c").read_bytes().splitlines(keepends=True)[4]
    return {"rollouts.jsonl": garbage, "grades.jsonl": grades[4] + grades[0] + b'{"problem_id": "q1", "sam\n',
            "scores/c.jsonl": stale + foreign}


def test_doctor_reports_every_damaged_line_and_changes_nothing(tmp_path):
    run = _run(tmp_path / "run")
    run.close()
    _damage(run)
    before = _tree(run.path)
    report = doctor(run.path)
    found = {(i.where, i.kind) for i in report.issues if i.damage}
    assert found == {("rollouts.jsonl:2", "malformed"), ("grades.jsonl:7", "duplicate"), ("grades.jsonl:8", "partial"),
                     ("grades.jsonl:5", "stale"), ("scores/c.jsonl:5", "stale"), ("scores/c.jsonl:7", "foreign"),
                     (".manifest.json.tmp-99999", "temporary")}
    assert any(i.kind == "incomplete" and i.where == "sample" for i in report.issues)  # q0 lacks a rollout
    assert report.damaged and _tree(run.path) == before  # reading wrote nothing
    text = "\n".join(report.lines())
    assert "rollouts.jsonl:2: malformed" in text and f"run `tts doctor {run.path} --repair`" in text


def test_repair_quarantines_every_bad_line_then_the_run_reads_clean(tmp_path):
    run = _run(tmp_path / "run")
    run.close()
    bad = _damage(run)
    with pytest.raises(Exception, match=r"rollouts.jsonl:2: not valid JSON.*tts doctor .* --repair"):
        RunDir.open(run.path, create=False).rollouts()
    report = doctor(run.path, repair=True)
    assert not report.damaged, report.lines()
    assert report.quarantine is not None and report.quarantine.parent == run.path / "quarantine"
    for name, lines in bad.items():  # the raw bytes are kept, nothing is deleted
        assert (report.quarantine / name).read_bytes() == lines
    reasons = [json.loads(ln) for ln in (report.quarantine / "reasons.jsonl").read_text().splitlines()]
    assert {(r["file"], r["line"], r["kind"]) for r in reasons} >= {("rollouts.jsonl", 2, "malformed")}
    again = RunDir.open(run.path, create=False)
    assert len(again.rollouts()) == 5 and len(again.scores("c")) == 4 and len(again.grades()) == 4
    # q0#1's score and grade stay, unused until the resume writes its rollout again with the same text
    assert again.ignored == {"scores/c.jsonl": {"orphan": 1}, "grades.jsonl": {"orphan": 1}}
    assert not list(run.path.glob(".*.tmp-*"))
    # what was set aside is what the next command computes again: q0#1's rollout, q1#1's score and grade
    assert {r.key() for r in again.rollouts()} == {(p, i) for p in ("q0", "q1") for i in range(3)} - {("q0", 1)}
    assert ("q1", 1) not in {s.key() for s in again.scores("c")}


def test_missing_and_corrupt_images_are_named_with_the_fix(tmp_path):
    run = _run(tmp_path / "run")
    run.close()
    image = run.resolve(run.problems()[0].images[0])
    image.write_bytes(image.read_bytes()[:-3] + b"xyz")
    report = doctor(run.path)
    issue = next(i for i in report.issues if i.kind == "corrupt_image")
    assert "q0" in issue.detail and "content-addressed name" in issue.detail
    fixed = doctor(run.path, repair=True)
    assert not image.exists() and any("images/" in r for r in fixed.repaired)
    missing = next(i for i in fixed.issues if i.kind == "missing_image")
    assert "run the command that made the run again" in missing.detail and fixed.damaged


def test_repair_is_refused_while_another_process_writes(tmp_path):
    run = _run(tmp_path / "run")
    run.close()
    hold = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom tts.rundir import RunDir\n"
                             "r = RunDir.open(sys.argv[1]); print('held', flush=True); time.sleep(60)", str(run.path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert hold.stdout is not None and hold.stdout.readline().strip() == "held"
        with pytest.raises(RunBusy):
            doctor(run.path, repair=True)
        report = doctor(run.path)  # reading is fine, and says who writes
        assert any(i.kind == "writer" and f"PID {hold.pid}" in i.detail for i in report.issues)
    finally:
        hold.kill()
        hold.wait()


def test_cli_exit_status_follows_the_damage(tmp_path, cli_env):
    run = _run(tmp_path / "run")
    run.close()
    _damage(run)

    def tts(*args):
        return subprocess.run([sys.executable, "-m", "tts", "doctor", str(run.path), *args], capture_output=True,
                              text=True, env=cli_env, timeout=300)

    first = tts()
    assert first.returncode == 1 and "damage: rollouts.jsonl:2: malformed" in first.stdout
    fixed = tts("--repair")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "repaired: rollouts.jsonl: moved 1 line(s) (1 malformed)" in fixed.stdout
    assert tts().returncode == 0
