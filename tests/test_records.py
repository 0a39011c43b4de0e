import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.records import Grade, Problem, RecordError, Rollout, Selection, StepScores

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
