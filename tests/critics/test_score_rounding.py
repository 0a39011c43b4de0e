"""``score_rounding="bf16"``: step scores as the reference's bf16 run computes them, and the pick it makes.

The reference (VisualPRM ``generate_steps_with_soft_score_v2`` + ``select_best_response``, called by
VLMEvalKit's ``InternVLChat.generate_v2`` with the critic loaded in bfloat16):

    logits = model(...).logits                          # bf16
    soft_scores = logits[0][idx, :][:, [+, -]].softmax(dim=-1).tolist()   # bf16 softmax, Python floats
    score = mean(P(+) of each step)                     # sum(...) / len(...) in Python
    sorted(scored, key=lambda x: x[1], reverse=True)[0] # stable: a tie goes to the earlier candidate
"""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tts.critics import ScoringRequest, load_critic
from tts.critics.numerics import p_first, p_first_from_logprobs, round_bf16
from tts.critics.steps import split_steps
from tts.critics.visualprm import conversation
from tts.strategies import STRATEGIES, Candidate

QUESTION = "<image>\nWhat is the area?\nAnswer the preceding question."
STEPS = ["The sides are 3 and 4.", "Area = 3 * 4 = 12.", "So x = 2.", "It is 7.", "Answer: \\boxed{12}", "+", "ки"]


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_round_bf16_is_torchs_conversion(x):
    assert round_bf16(x) == torch.tensor(x, dtype=torch.float32).to(torch.bfloat16).item()


def test_bf16_p_first_equals_a_bf16_softmax_of_bf16_logits():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(20000, 2, generator=gen) * 6
    reference = logits.to(torch.bfloat16).softmax(dim=-1)[:, 0].float()  # the reference's op on bf16 logits
    assert torch.equal(p_first(logits, "bf16"), reference)
    assert not torch.equal(p_first(logits, "none"), reference)
    lp = torch.log_softmax(logits.to(torch.bfloat16).float(), dim=-1)  # what vLLM returns for bf16 logits
    via_logprobs = torch.tensor([p_first_from_logprobs(a, b, "bf16") for a, b in lp.tolist()])
    assert (via_logprobs - reference).abs().max() <= 2**-8  # at most one bf16 step, where fp32 rounding differs
    assert (via_logprobs == reference).float().mean() > 0.99


def reference_select(critic, image, responses):
    """VisualPRM's single-pass scoring on the critic loaded in bf16, then the stable descending sort."""
    vlm = critic.vlm
    pixel_values, tiles = vlm.pixel_values([image], None)
    scored = []
    for text in responses:
        steps = split_steps(text, max_steps=critic.max_steps)
        query = vlm.expand_images(conversation(critic.system_message, QUESTION, steps, 1), tiles)
        ids = critic.tokenizer(query)["input_ids"]
        idx = critic.reply_positions(ids)
        with torch.no_grad():
            logits = vlm.model(pixel_values=pixel_values.to(torch.bfloat16), input_ids=torch.tensor([ids])).logits
        assert logits.dtype == torch.bfloat16
        soft = logits[0][idx, :][:, critic.candidate_ids].softmax(dim=-1).tolist()
        step_scores = [s[0] * 1 + s[1] * 0 for s in soft]
        scored.append((text, step_scores, sum(step_scores) / len(step_scores)))
    best = sorted(scored, key=lambda x: x[2], reverse=True)[0][0]
    return best, [s for _, s, _ in scored]


@pytest.fixture(scope="module")
def bf16_critics(tiny):
    path = str(tiny.critic_remote)
    return {r: load_critic("visualprm", path, dtype="bf16", device="cpu", score_rounding=r) for r in ("none", "bf16")}


def test_bf16_rounding_reproduces_the_references_scores_ties_and_pick(bf16_critics):
    rng = random.Random(3)
    image = Image.new("RGB", (120, 90), "white")
    responses = ["\n\n".join(rng.choice(STEPS) for _ in range(rng.randint(1, 3))) for _ in range(16)]
    best, ref_scores = reference_select(bf16_critics["bf16"], image, responses)
    request = [ScoringRequest("p", QUESTION, (image,), tuple(enumerate(responses)))]

    ours = bf16_critics["bf16"].score(request)[0]
    assert [list(s.scores) for s in ours] == ref_scores  # the reference's bf16 values, bit for bit
    means = [sum(s) / len(s) for s in ref_scores]
    assert len(set(means)) < len(means)  # bf16 makes ties (responses' mean scores coincide)
    pick = STRATEGIES.get("best_of_n")([Candidate(s.sample_idx, s.scores) for s in ours], "mean")
    assert responses[pick] == best and pick == means.index(max(means))

    plain = bf16_critics["none"].score(request)[0]
    assert [list(s.scores) for s in plain] != ref_scores  # float32 P(+): not what the reference computes


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from([round_bf16(x) for x in (0.99, 0.97, 0.9, 0.75, 0.6, 0.5, 0.2, 0.031)]),
                         min_size=1, max_size=12), min_size=2, max_size=16))
def test_best_of_n_picks_what_the_reference_stable_sort_picks(step_scores):
    """With bf16 step scores (ties common), best_of_n's pick is the first of ``sorted(..., reverse=True)``."""
    scored = [(i, sum(s) / len(s)) for i, s in enumerate(step_scores)]
    expected = sorted(scored, key=lambda x: x[1], reverse=True)[0][0]
    candidates = [Candidate(i, tuple(s)) for i, s in enumerate(step_scores)]
    assert STRATEGIES.get("best_of_n")(candidates, "mean") == expected
    assert STRATEGIES.get("best_of_n")(list(reversed(candidates)), "mean") == expected  # order-free


def test_rounding_is_in_the_critic_identity_only_when_on(bf16_critics):
    assert "score_rounding" not in bf16_critics["none"].identity()
    assert bf16_critics["bf16"].identity()["score_rounding"] == "bf16"
    assert bf16_critics["bf16"].info()["score_rounding"] == "bf16"
    with pytest.raises(ValueError, match="score_rounding"):
        load_critic("visualprm", "unused", score_rounding="fp8")
