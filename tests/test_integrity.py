"""Which record lines readers use: one per key, only scores and grades of the rollout text now in the run."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.integrity import scan_records
from tts.jsonl import JsonlCorruption
from tts.records import Grade, Rollout, StepScores, hash_text

TEXTS = {("p", 0): "zero", ("p", 1): "one"}
HASHES = {k: hash_text(t) for k, t in TEXTS.items()}


def _score(i: int, critic: str = "c", text: str | None = None, hashed: bool = True) -> str:
    h = hash_text(text if text is not None else TEXTS[("p", i)]) if hashed else None
    return StepScores("p", i, critic, ("a",), (0.5,), text_hash=h).to_line()


CASES = [
    ("clean", [_score(0), _score(1)], [0, 1], {}),
    ("duplicate", [_score(0), _score(0), _score(1)], [0, 1], {2: "duplicate"}),
    ("stale", [_score(0, text="edited"), _score(1)], [1], {1: "stale"}),
    ("stale-then-fresh", [_score(0, text="edited"), _score(0)], [0], {1: "stale"}),
    ("unknown-is-not-stale", [_score(0, hashed=False)], [0], {}),
    ("orphan", [_score(0), StepScores("p", 7, "c", (), ()).to_line()], [0], {2: "orphan"}),
    ("foreign-in-a-mixed-file", [_score(0), _score(1, critic="other")], [0], {2: "foreign"}),
    ("renamed-file-is-not-foreign", [_score(0, critic="old"), _score(1, critic="old")], [0, 1], {}),
    ("partial-tail", [_score(0), _score(1)[:20]], [0], {2: "partial"}),
]


@pytest.mark.parametrize("name,lines,kept,ignored", CASES, ids=[c[0] for c in CASES])
def test_scan_keeps_the_first_valid_line_of_each_key(tmp_path, name, lines, kept, ignored):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + ("" if name == "partial-tail" else "\n"))
    scan = scan_records(path, StepScores, label="c", rollouts=HASHES)
    assert [s.sample_idx for s in scan.records] == kept
    assert {f.line: f.kind for f in scan.ignored} == ignored


def test_damage_stops_a_strict_reader_and_is_listed_otherwise(tmp_path):
    path = tmp_path / "grades.jsonl"
    good = Grade("p", 0, "1", True, "ok", text_hash=HASHES[("p", 0)]).to_line()
    path.write_text(f'{good}\nnot json\n{{"problem_id": "p"}}\n[1, 2]\n{good}\n')
    with pytest.raises(JsonlCorruption, match="grades.jsonl:2: not valid JSON"):
        scan_records(path, Grade, rollouts=HASHES)
    scan = scan_records(path, Grade, rollouts=HASHES, strict=False)
    assert [(f.line, f.kind) for f in scan.ignored] == [(2, "malformed"), (3, "invalid"), (4, "invalid"), (5, "duplicate")]
    assert len(scan.records) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=30))
def test_every_key_is_read_once_whatever_was_appended(tmp_path_factory, appends):
    """Any sequence of appends (repeats, stale copies): each key read once, from its first fresh line."""
    texts = {i: f"text {i}" for i in range(4)}
    hashes = {("p", i): hash_text(t) for i, t in texts.items()}
    path = tmp_path_factory.mktemp("scan") / "c.jsonl"
    lines = [StepScores("p", i, "c", ("a",), (float(n),), text_hash=hash_text(texts[i] if fresh else "old")).to_line()
             for n, (i, fresh) in enumerate(appends)]
    path.write_text("".join(ln + "\n" for ln in lines))
    scan = scan_records(path, StepScores, label="c", rollouts=hashes)
    expected = {}
    for n, (i, fresh) in enumerate(appends):
        if fresh and i not in expected:
            expected[i] = float(n)
    assert {s.sample_idx: s.scores[0] for s in scan.records} == expected
    assert len(scan.records) + len(scan.ignored) == len(appends)


def test_rollouts_are_keyed_by_problem_and_sample(tmp_path):
    path = tmp_path / "rollouts.jsonl"
    r = Rollout("p", 0, "t", "stop", 1, 1, 0.1, "m", "e")
    path.write_text(r.to_line() + "\n" + Rollout("p", 1, "t", "stop", 1, 1, 0.1, "m", "e").to_line() + "\n")
    assert len(scan_records(path, Rollout).records) == 2
