import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.records import Grade, Problem, RecordError, Rollout, Selection, StepScores, hash_text

RECORDS = [
    Problem(id="mathvista-testmini-1", benchmark="mathvista", split="testmini", question="What is x?",
            images=("images/a.png",), choices=("1", "2"), answer="2", question_type="multi_choice",
            answer_type="text", precision=None, unit="cm", meta={"task": "geometry", "skills": ["algebra"]}),
    Problem(id="mmmu-1", benchmark="mmmu", split="validation", question="q", answer=("24/7", "3.429")),
    Rollout(problem_id="p", sample_idx=3, text="Step 1\n\nAnswer: \\boxed{2}", finish_reason="length",
            prompt_tokens=100, completion_tokens=4096, seconds=1.5, model="m", engine="vllm", seed=7,
            flags=("repetition",)),
    StepScores(problem_id="p", sample_idx=3, critic="visualprm", steps=("a", "b"), scores=(0.25, 0.75)),
    StepScores(problem_id="p", sample_idx=4, critic="visualprm", steps=(), scores=(), flags=("unscored", "empty")),
    Grade(problem_id="p", sample_idx=3, extracted="2", correct=True, reason="match"),
    Selection(problem_id="p", strategy="best_of_n", aggregation="mean", n=8, critic="visualprm", sample_idx=3,
              answer="2"),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip_through_a_json_line(record):
    line = record.to_line()
    assert "\n" not in line
    again = type(record).from_json(json.loads(line))
    assert again == record
    assert again.key() == record.key()


def test_records_are_immutable():
    with pytest.raises(AttributeError):
        RECORDS[2].text = "changed"  # type: ignore[misc]


def test_missing_key_is_a_clear_error():
    with pytest.raises(RecordError, match="missing key"):
        Rollout.from_json({"problem_id": "p"})


@pytest.mark.parametrize("bad", [
    {"question_type": "mcq"}, {"answer_type": "number"}, {"id": ""},
])
def test_invalid_problem_values_are_rejected(bad):
    fields = {"id": "x", "benchmark": "b", "split": "s", "question": "q", **bad}
    with pytest.raises(RecordError):
        Problem.from_json(fields)


def test_scores_must_match_steps():
    with pytest.raises(RecordError, match="2 scores for 1 steps"):
        StepScores("p", 0, "c", ("a",), (0.1, 0.2))


def test_unknown_keys_are_ignored_for_forward_compatibility():
    g = Grade("p", 0, None, False, "no answer").to_json()
    assert Grade.from_json({**g, "future_field": 1}) == Grade.from_json(g)


@given(st.text(), st.integers(min_value=0, max_value=10**6), st.lists(st.text(max_size=5), max_size=3))
def test_any_text_round_trips(text, idx, flags):
    r = Rollout("p", idx, text, "stop", 1, 2, 0.5, "m", "e", None, tuple(flags))
    assert Rollout.from_json(json.loads(r.to_line())) == r


def test_grade_lines_written_before_the_rules_rename_are_read() -> None:
    """Runs graded before ``scoring`` became ``rules`` keep their grades (same key, same value)."""
    old = {"problem_id": "p", "sample_idx": 1, "extracted": "2", "correct": True, "reason": "equal",
           "scoring": "official"}
    g = Grade.from_json(old)
    assert g.rules == "official" and g.key() == ("p", 1, "official")
    assert "scoring" not in g.to_json() and g.to_json()["rules"] == "official"


@pytest.mark.parametrize("record,field,flagged", [
    (Rollout("p", 0, "a\ud800b", "stop", 1, 1, 0.1, "m", "e", flags=("greedy",)), "text",
     lambda r: r.flags == ("greedy", "unencodable_replaced")),
    (StepScores("p", 0, "c", ("ok", "bad \udcff"), (0.1, 0.2)), "steps", lambda r: r.flags == ("unencodable_replaced",)),
    (Grade("p", 0, "\ud800", False, "r"), "extracted", lambda r: r.flags == ("unencodable_replaced",)),
    (Selection("p", "s", "a", 1, None, 0, "x\udc80"), "answer", lambda r: r.flags == ("unencodable_replaced",)),
    (Problem(id="x", benchmark="b", split="s", question="q", choices=("\ud800",), meta={"k": "\udcff"}), "choices",
     lambda r: r.meta["unencodable_replaced"] is True and r.meta["k"] == "\ufffd"),
], ids=["rollout", "scores", "grade", "selection", "problem"])
def test_unencodable_text_is_replaced_and_flagged(record, field, flagged):
    assert "\ufffd" in json.dumps(getattr(record, field), ensure_ascii=False) and flagged(record)
    line = record.to_line()
    line.encode("utf-8")  # never fails
    assert type(record).from_json(json.loads(line)) == record


def test_a_surrogate_pair_becomes_its_character():
    r = Rollout("p", 0, "smile \ud83d\ude00", "stop", 1, 1, 0.1, "m", "e")
    assert r.text == "smile \U0001f600" and r.flags == ("unencodable_replaced",)


def test_line_formats_without_the_new_optional_fields_are_unchanged():
    """Old readers and old lines: text_hash and empty flags are left out; lines without them load."""
    g = Grade("p", 0, "2", True, "ok")
    assert list(g.to_json()) == ["problem_id", "sample_idx", "extracted", "correct", "reason", "rules"]
    s = Selection("p", "best_of_n", "mean", 4, "c", 1, "2")
    assert "flags" not in s.to_json()
    old = {"problem_id": "p", "sample_idx": 0, "critic": "c", "steps": ["a"], "scores": [0.5], "flags": [], "tokens": 3}
    assert StepScores.from_json(old).text_hash is None
    hashed = StepScores.from_json({**old, "text_hash": "0123456789abcdef"})
    assert hashed.to_json()["text_hash"] == "0123456789abcdef"


def test_a_rollout_knows_the_hash_its_scores_and_grades_record():
    r = RECORDS[2]
    assert r.text_hash == hash_text(r.text) and len(r.text_hash) == 16
    assert hash_text(r.text + " ") != r.text_hash
