"""The text PRM with a step tag: same interface, Math-Shepherd's own scoring rule."""

import pytest
import torch

from tts.critics import ScoringRequest, load_critic, split_steps
from tts.testing.text_prm_tiny import text_prm_checkpoints

QUESTION = "<image>\nWhat is 2 + 2?\nAnswer the preceding question."
RESPONSES = (
    (0, "We compute 2 + 2 = 4\n\nso the answer is 4"),
    (1, "Answer: \\boxed{4}"),
    (2, ""),
    (3, "Step 1: The sides are 3 and 4.\n\nStep 2: x + y = 1.\n\nTherefore the perimeter is 12 cm."),
)


@pytest.fixture(scope="module")
def ckpt():
    return text_prm_checkpoints().math_shepherd


@pytest.fixture(scope="module")
def critic(ckpt):
    return load_critic("math-shepherd", str(ckpt))


def model_card_scores(critic, question, text):
    """The model card's rule: full-vocabulary logits, softmax over the two labels, read at the tag tokens."""
    steps = split_steps(text)
    ids = critic.tokenizer(f"{question} " + " ки\n\n".join(steps) + " ки")["input_ids"]
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        logits = critic.model(input_ids).logits[:, :, critic.candidate_ids]
    scores = logits.softmax(dim=-1)[:, :, 0]
    return scores[input_ids == critic.tag_id].tolist()


def test_scores_equal_the_model_card_rule(critic):
    out = critic.score([ScoringRequest("p", QUESTION, (), RESPONSES)])[0]
    question = "What is 2 + 2?\nAnswer the preceding question."  # the text PRM does not see the image
    for (idx, text), rec in zip(RESPONSES, out):
        assert rec.sample_idx == idx and rec.critic == "math-shepherd"
        if not text.strip():
            assert rec.flags == ("unscored", "empty")
            continue
        assert rec.steps == tuple(split_steps(text))
        assert rec.scores == pytest.approx(model_card_scores(critic, question, text), abs=1e-5)


def test_batching_does_not_change_scores(critic):
    reqs = [ScoringRequest("p", QUESTION, (), RESPONSES), ScoringRequest("q", "What is 3 * 3?", (), RESPONSES[:2])]
    together = critic.score(reqs)
    critic.token_budget, old = 40, critic.token_budget
    critic.stats.clear()
    try:
        split = critic.score(reqs)
    finally:
        critic.token_budget = old
    assert critic.stats["forward_passes"] == 5
    for a, b in zip(together, split):
        for x, y in zip(a, b):
            assert x.scores == pytest.approx(y.scores, abs=1e-5)


def test_a_step_containing_the_tag_is_not_scored(critic):
    rec = critic.score([ScoringRequest("p", QUESTION, (), ((0, "so ки it is\n\n4"),))])[0][0]
    assert rec.flags == ("unscored", "template_mismatch")


def test_labels_and_tag_are_single_tokens(critic):
    tok = critic.tokenizer
    assert critic.candidate_ids == [tok.convert_tokens_to_ids("+"), tok.encode(" -")[0]]
    assert tok.decode([critic.tag_id]) == " ки"


def test_max_steps_merges_evenly(ckpt):
    merged = load_critic("math-shepherd", str(ckpt), max_steps=2)
    rec = merged.score([ScoringRequest("p", QUESTION, (), RESPONSES[3:])])[0][0]
    assert len(rec.steps) == 2 and rec.steps[0].count("\n\n") == 1
