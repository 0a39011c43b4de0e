import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tts.records import Grade, Problem, Rollout, StepScores, hash_text
from tts.run import open_run
from tts.rundir import ConfigConflict, RunDir, RunDirError


def _rollout(i: int) -> Rollout:
    return Rollout("p", i, f"text {i}", "stop", 1, 1, 0.1, "m", "transformers", 0)


def test_new_run_has_a_manifest_with_versions(tmp_path):
    run = RunDir.open(tmp_path / "r")
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert m["schema_version"] == 1 and m["versions"]["python"] and m["created"]
    assert run.manifest["config"] == {}


def test_config_conflict_names_every_difference(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.bind("sampling", {"n": 8, "temperature": 0.7, "top_p": 0.95})
    run.bind("sampling", {"n": 8, "temperature": 0.7, "top_p": 0.95})  # same: fine
    again = RunDir.open(tmp_path / "r")
    with pytest.raises(ConfigConflict) as exc:
        again.bind("sampling", {"n": 4, "temperature": 1.0, "top_p": 0.95})
    msg = str(exc.value)
    assert "sampling.n: the run has 8, this command asks for 4" in msg
    assert "sampling.temperature: the run has 0.7, this command asks for 1.0" in msg
    assert "top_p" not in msg


def test_nested_sections_and_model_change(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.bind("critics.visualprm", {"model": "OpenGVLab/VisualPRM-8B"})
    run.bind("critics.other", {"model": "x"})
    with pytest.raises(ConfigConflict, match="critics.visualprm.model"):
        run.bind("critics.visualprm", {"model": "OpenGVLab/VisualPRM-8B-v1_1"})


def test_opening_a_run_drops_a_truncated_line(tmp_path, caplog):
    run = RunDir.open(tmp_path / "r")
    run.append([_rollout(0), _rollout(1)])
    with open(run.file("rollouts"), "ab") as f:
        f.write(b'{"problem_id": "p", "sample_idx": 2, "te')
    again = RunDir.open(tmp_path / "r")
    assert [r.sample_idx for r in again.rollouts()] == [0, 1]
    again.append([_rollout(2)])
    assert [r.sample_idx for r in again.rollouts()] == [0, 1, 2]
    assert "truncated" in caplog.text


def test_refuses_a_non_run_directory_and_newer_schema(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file.txt").write_text("hi")
    with pytest.raises(RunDirError, match="not empty"):
        RunDir.open(tmp_path / "x")
    with pytest.raises(RunDirError, match="no manifest"):
        RunDir.open(tmp_path / "missing", create=False)
    run = RunDir.open(tmp_path / "r")
    run.manifest["schema_version"] = 99
    run.save()
    with pytest.raises(RunDirError, match="schema version 99"):
        RunDir.open(tmp_path / "r")


def test_warnings_are_counted(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.add_warnings("problems", ["row 3: bad image", "row 9: bad options"])
    assert RunDir.open(tmp_path / "r").manifest["warnings"]["problems"]["count"] == 2


# ---------------------------------------------------------------------------------------------------------
# Readers never write; damage and foreign content never count.


def _tree(path):
    return {p.relative_to(path): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(path.rglob("*")) if p.is_file()}


def test_opening_to_read_changes_no_byte(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.append([_rollout(0), _rollout(1)])
    run.close()
    with open(run.file("rollouts"), "ab") as f:  # a writer's batch in flight
        f.write(b'{"problem_id": "p", "sample_idx": 2, "te')
    before = _tree(tmp_path / "r")
    reader = open_run(tmp_path / "r")
    assert list(reader.rollouts.sample_idx) == [0, 1]  # the half-written line is ignored, not cut
    RunDir.open(tmp_path / "r", create=False).rollouts()
    assert _tree(tmp_path / "r") == before


WRITER = """
import random, sys
from tts.records import Rollout
from tts.rundir import RunDir
run = RunDir.open(sys.argv[1])
total, rng, i = int(sys.argv[2]), random.Random(0), 0
while i < total:
    k = min(total - i, rng.randint(1, 8))
    run.append([Rollout(f"p{j // 8}", j % 8, "step " * rng.randint(1, 8000) + str(j), "stop", 1, 1, 0.1, "m", "e")
                for j in range(i, i + k)])
    i += k
"""


def _ends_mid_line(path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:
        return False


def test_a_reader_hammering_open_run_loses_nothing_of_a_live_writer(tmp_path):
    """Thousands of appends (batches of up to 8 rollouts of up to 40 kB) by one process while another opens
    the run in a tight loop, reading it all now and then: every record stays (before readers stopped
    repairing tails, each open that met a batch in flight cut it: about 1% of the records were lost)."""
    total = 3000
    path = tmp_path / "r"
    RunDir.open(path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(total)], env=env,
                              stderr=subprocess.PIPE, text=True)
    opens = reads = mid_line = last = 0
    while writer.poll() is None:
        mid_line += _ends_mid_line(path / "rollouts.jsonl")
        run = open_run(path)
        opens += 1
        if opens % 500 == 0:
            seen = len(run.rollouts)
            assert seen >= last, "a reader saw records disappear"
            last, reads = seen, reads + 1
    assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
    final = RunDir.open(path, create=False).read(Rollout)
    print(f"\nreader hammer: {opens} open_run calls ({reads} full reads) during {total} appended records; "
          f"{mid_line} checks met a batch in flight; lost {total - len(final)}")
    assert opens >= 200, "the reader did not overlap the writer enough to prove anything"
    assert len(final) == total and (path / "rollouts.jsonl").read_bytes().count(b"\n") == total


@pytest.mark.parametrize("content,expected", [
    (b"[]", "a JSON array, expected an object"),
    (b'"run"', "a JSON string, expected an object"),
    (b"null", "a JSON null, expected an object"),
    (b"3", "a JSON number, expected an object"),
    (b"{}", "no schema_version"),
    (b'{"schema_version": "1"}', "schema_version is '1' (a JSON string), expected a positive integer"),
    (b'{"schema_version": true}', "schema_version is True (a JSON boolean)"),
    (b'{"schema_version": 1, "config": []}', "'config' is a JSON array, expected an object"),
    (b'{"schema_version": 1, "stages": "x"}', "'stages' is a JSON string, expected an object"),
    (b"{not json", "unreadable manifest"),
    (b'{"schema_version": 7}', "newer than this ttscale supports (<= 1); upgrade ttscale"),
], ids=["array", "string", "null", "number", "empty", "version-string", "version-bool", "config-array",
        "stages-string", "not-json", "newer"])
def test_a_malformed_manifest_is_one_line_naming_the_problem(tmp_path, content, expected):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "manifest.json").write_bytes(content)
    for write in (False, True):
        with pytest.raises(RunDirError) as exc:
            RunDir.open(tmp_path / "r", create=write, write=write)
        assert expected in str(exc.value) and "\n" not in str(exc.value)


def test_a_malformed_manifest_through_the_cli_is_one_line(tmp_path, cli_env):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "manifest.json").write_bytes(b"[]")
    for command in (["report"], ["select"], ["doctor", "--repair"]):
        out = subprocess.run([sys.executable, "-m", "tts", *command, str(tmp_path / "r")], capture_output=True,
                             text=True, env=cli_env, timeout=300)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, (command, out.stderr)
        assert "not a ttscale manifest (a JSON array" in out.stderr and "Traceback" not in out.stderr


def test_surrogates_in_a_rollout_never_fail_the_batch(tmp_path):
    run = RunDir.open(tmp_path / "r")
    bad = Rollout("p", 1, "x = \ud800 and \udcff; pair \ud83d\ude00", "stop", 1, 1, 0.1, "m\udc80", "e")
    assert run.append([_rollout(0), bad, _rollout(2)]) == 3
    got = run.rollouts()
    assert [r.sample_idx for r in got] == [0, 1, 2]
    assert got[1].text == "x = \ufffd and \ufffd; pair \U0001f600" and got[1].model == "m\ufffd"
    assert got[1].flags == ("unencodable_replaced",) and got[0].flags == ()
    raw = run.file("rollouts").read_bytes()
    raw.decode("utf-8")  # valid UTF-8 throughout: pandas, datasets and TRL read it
    problem = Problem("q\ud800", "b", "s", "what is \udcff?")
    assert run.append([problem]) == 1 and run.problems()[0].meta == {"unencodable_replaced": True}


def test_a_record_json_cannot_hold_is_left_out_not_the_batch(tmp_path, caplog):
    run = RunDir.open(tmp_path / "r")
    nan = StepScores("p", 1, "c", ("a",), (float("nan"),))
    ok = StepScores("p", 0, "c", ("a",), (0.5,))
    assert run.append([ok, nan], critic="c") == 1
    assert "('p', 1) not written" in caplog.text


def test_duplicates_are_read_once_and_counted_once(tmp_path):
    from tts.stages.report_sections import cost_section

    run = RunDir.open(tmp_path / "r")
    rollouts = [_rollout(i) for i in range(3)]
    run.append(rollouts)
    run.append(rollouts)  # a second process wrote the same keys
    run.append([StepScores("p", i, "c", ("a",), (0.5,), tokens=10, text_hash=r.text_hash) for i, r in enumerate(rollouts)] * 2,
               critic="c")
    assert [r.sample_idx for r in run.rollouts()] == [0, 1, 2]
    assert run.ignored == {"rollouts.jsonl": {"duplicate": 3}}
    cost = cost_section(run)
    assert cost["policy"]["rollouts"] == 3 and cost["policy"]["completion_tokens"] == 3
    assert cost["critics"]["c"] == {"rollouts": 3, "tokens": 30, "unscored": 0}
    assert run.ignored["scores/c.jsonl"] == {"duplicate": 3}


def test_stale_and_foreign_scores_and_grades_are_ignored(tmp_path, caplog):
    run = RunDir.open(tmp_path / "r")
    run.append([_rollout(0), _rollout(1)])
    h0, h1 = _rollout(0).text_hash, _rollout(1).text_hash
    run.append([StepScores("p", 0, "c", ("a",), (0.1,), text_hash=h0),
                StepScores("p", 1, "c", ("a",), (0.2,), text_hash=hash_text("another run's text")),  # copied in
                StepScores("p", 0, "other", ("a",), (0.3,), text_hash=h0),  # another critic's line
                StepScores("p", 1, "c", ("a",), (0.4,))], critic="c")  # old line: no hash, not stale
    run.append([Grade("p", 0, "2", True, "ok", text_hash=h0), Grade("p", 1, "3", False, "no", text_hash="0" * 16),
                Grade("p", 9, "3", False, "no", text_hash=h1)])  # no such rollout
    assert [(s.sample_idx, s.scores) for s in run.scores("c")] == [(0, (0.1,)), (1, (0.4,))]
    assert run.ignored["scores/c.jsonl"] == {"stale": 1, "foreign": 1}
    assert [g.sample_idx for g in run.grades()] == [0]
    assert run.ignored["grades.jsonl"] == {"stale": 1, "orphan": 1}
    assert "1 foreign, 1 stale" in caplog.text and "tts doctor" in caplog.text
    # a hand-edited rollout makes its score and grade stale
    lines = run.file("rollouts").read_text().splitlines()
    lines[0] = lines[0].replace("text 0", "text 0, edited")
    run.file("rollouts").write_text("\n".join(lines) + "\n")
    assert [s.sample_idx for s in run.scores("c")] == [1] and run.grades() == []
