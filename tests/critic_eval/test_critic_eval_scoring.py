"""How a labelled solution is handed to a critic: the dataset's steps must come back as the critic's steps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.critic_eval.scoring import align, critic_text
from tts.critics.steps import split_steps
from tts.records import StepScores


@pytest.mark.parametrize("steps,sent,rewritten", [
    (["a", "b", "c"], ["a", "b", "c"], False),
    (["a", "", "b"], ["a", "", "b"], False),  # an empty step survives the blank-line join
    (["a", "\nb"], ["a", "\nb"], False),  # a leading newline does too
    (["a\n\nb", "c"], ["a\nb", "c"], True),  # a blank line inside a step would cut it in two
    (["a\n", "b"], ["a", "b"], True),  # a trailing newline would glue onto the separator
    (["a", "b\n"], ["a", "b\n"], False),  # ... except on the last step
    (["x\n\n\n\ny", "z"], ["x\ny", "z"], True),
])
def test_critic_text_gives_back_the_steps(steps, sent, rewritten):
    text, got, was_rewritten = critic_text(steps)
    assert list(got) == sent and was_rewritten == rewritten
    assert split_steps(text, max_steps=None) == sent
    assert text == "\n\n".join(sent)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab \n", max_size=8), min_size=1, max_size=12))
def test_critic_text_always_round_trips(steps):
    made = critic_text(steps)
    assert made is not None
    text, sent, rewritten = made
    assert len(sent) == len(steps)
    if text.strip():  # a whitespace-only solution has no steps for any critic (recorded unscored)
        assert split_steps(text, max_steps=None) == list(sent)
    if not rewritten:
        assert list(sent) == steps


def _rec(steps, scores, flags=()):
    return StepScores("p", 0, "c", tuple(steps), tuple(scores), tuple(flags))


def test_align_places_scores_on_the_steps_sent():
    sent = ("a", "b", "c")
    assert align(_rec(sent, (0.1, 0.2, 0.3)), sent) == ((0.1, 0.2, 0.3), ())
    # the start of a long solution did not fit: the dropped steps get no score, the rest keep theirs
    flags = ("truncated", "dropped_steps:2")
    assert align(_rec(("c",), (0.3,), flags), sent) == ((None, None, 0.3), flags)
    # only the end of the last step fitted
    flags = ("truncated", "dropped_steps:2", "clipped_step")
    assert align(_rec(("end of c",), (0.3,), flags), sent)[0] == (None, None, 0.3)
    # unscored by the critic: every step unscored, its reason kept
    assert align(_rec(sent, (), ("unscored", "too_long")), sent) == ((None,) * 3, ("unscored", "too_long"))
    # the critic split differently: never pair a score with the wrong label
    assert align(_rec(("a", "b\n\nc"), (0.1, 0.2)), sent) == ((None,) * 3, ("unscored", "step_mismatch"))


def test_the_record_round_trips_its_json_line_and_refuses_impossible_values():
    import json

    from tts.records import LabelledStepScores, RecordError

    rec = LabelledStepScores("vpb-00001", "MMMU_DEV_VAL", "visualprm", (1, 0, -1), (None, 0.25, 0.75),
                             ("truncated", "dropped_steps:1"), "gpt-4o", 321)
    line = rec.to_line()
    assert json.loads(line)["scores"] == [None, 0.25, 0.75]
    assert LabelledStepScores.from_json(json.loads(line)) == rec and rec.scored and rec.key() == ("vpb-00001",)
    assert not LabelledStepScores("x", "s", "c", (1,), (None,)).scored
    with pytest.raises(RecordError, match="2 scores for 1 labels"):
        LabelledStepScores("x", "s", "c", (1,), (0.1, 0.2))
    with pytest.raises(RecordError, match="1, 0 or -1"):
        LabelledStepScores("x", "s", "c", (2,), (0.1,))
