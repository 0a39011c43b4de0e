"""Batching across problems up to a token budget, image features shared, and truncation to the context."""

import pytest
import torch
from PIL import Image

from tts.critics import ScoringRequest, load_critic, split_steps
from tts.critics.fitting import pack_by_budget
from tts.critics.visualprm import conversation

QUESTION = "<image>\nWhat is the area?\nAnswer the preceding question."
RESPONSES = (
    (0, "The sides are 3 and 4.\n\nArea = 3 * 4 = 12.\n\nAnswer: \\boxed{12}"),
    (1, "It is 7."),
    (2, ""),
    (3, "a\n\nb\n\nc\n\nd"),
    (4, "First, we look at the figure.\n\nThe triangle has sides 3, 4 and 5.\n\nSo x = 2."),
)


@pytest.fixture(scope="module", params=["native", "remote"])
def critic(tiny, request):
    return load_critic("visualprm", str(tiny.critic if request.param == "native" else tiny.critic_remote))


def _requests():
    sizes = [(120, 90), (60, 200), (56, 56)]
    return [ScoringRequest(f"p{i}", QUESTION, (Image.new("RGB", s, c),), RESPONSES[: 5 - i])
            for i, (s, c) in enumerate(zip(sizes, ["white", "gray", "red"]))]


def _tower(critic):
    return critic.vlm.model.model.vision_tower if critic.vlm.style == "native" else critic.vlm.model.vision_model


def _scores(out):
    return [[r.scores for r in recs] for recs in out]


def _count_calls(module, fn):
    calls = []
    handle = module.register_forward_hook(lambda *a: calls.append(1))
    try:
        result = fn()
    finally:
        handle.remove()
    return result, len(calls)


@pytest.mark.parametrize("budget", [60, 400, 100_000])
def test_token_budget_packing_changes_the_passes_not_the_scores(critic, budget):
    reqs = _requests()
    alone = [critic.score([r])[0] for r in reqs]
    critic.token_budget, old = budget, critic.token_budget
    critic.stats.clear()
    try:
        body = critic.vlm.language_model.model if critic.vlm.style == "remote" else critic.vlm.model.model.language_model
        together, passes = _count_calls(body, lambda: critic.score(reqs))
    finally:
        critic.token_budget = old
    for a, t in zip(_scores([*alone]), _scores(together)):
        for x, y in zip(a, t):
            assert x == pytest.approx(y, abs=1e-5)
    lengths = []
    for r in reqs:  # the sequences the critic builds, to know how the budget must pack them
        pv, tiles = critic.vlm.pixel_values(r.images, None)
        for _, text in r.responses:
            if text.strip():
                conv = conversation(critic.system_message, QUESTION, split_steps(text), 1)
                lengths.append(len(critic.encode(critic.expand_images(conv, tiles))))
    assert passes == critic.stats["forward_passes"] == len(pack_by_budget(lengths, budget))
    assert critic.stats["sequences"] == len(lengths)
    if budget >= 100_000:
        assert passes == 1  # every rollout of every problem in one forward pass


@pytest.mark.parametrize("tile_budget,expected_calls", [(1, 3), (100, 1)])
def test_vision_encoder_runs_once_per_problem_or_less(critic, tile_budget, expected_calls):
    reqs = _requests()
    critic.vision_tile_budget, old = tile_budget, critic.vision_tile_budget
    critic.stats.clear()
    try:
        _, calls = _count_calls(_tower(critic), lambda: critic.score(reqs))
    finally:
        critic.vision_tile_budget = old
    assert calls == critic.stats["vision_calls"] == expected_calls


def test_max_tiles_changes_the_image_tokens(critic):
    big = Image.new("RGB", (400, 100), "white")
    few = critic.score([ScoringRequest("p", QUESTION, (big,), RESPONSES[:1], max_tiles=2)])[0][0]
    many = critic.score([ScoringRequest("p", QUESTION, (big,), RESPONSES[:1], max_tiles=6)])[0][0]
    assert critic.stats["tokens"] and few.scores != many.scores


def _length(critic, steps):
    _, tiles = critic.vlm.pixel_values([Image.new("RGB", (120, 90))], None)
    return len(critic.encode(critic.expand_images(conversation(critic.system_message, QUESTION, steps, 1), tiles)))


def test_a_rollout_over_the_context_loses_its_first_steps(critic):
    image = Image.new("RGB", (120, 90), "white")
    text = RESPONSES[4][1]
    steps = split_steps(text)
    critic.max_length, old = _length(critic, steps[1:]), critic.max_length
    try:
        rec = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, text),))])[0][0]
    finally:
        critic.max_length = old
    assert rec.steps == tuple(steps[1:]) and rec.flags == ("truncated", "dropped_steps:1")
    kept = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, "\n\n".join(steps[1:])),))])[0][0]
    assert rec.scores == pytest.approx(kept.scores, abs=1e-6)


def test_a_last_step_over_the_context_is_cut_from_the_left(critic):
    image = Image.new("RGB", (120, 90), "white")
    text = "intro\n\n" + "The triangle has sides 3, 4 and 5. " * 6 + "Answer: \\boxed{6}"
    critic.max_length, old = _length(critic, [""]) + 12, critic.max_length
    try:
        rec = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, text),))])[0][0]
        short = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, "x"),))])[0][0]
        critic.max_length = _length(critic, [""]) - 1
        too_long = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, text),))])[0][0]
    finally:
        critic.max_length = old
    assert rec.flags == ("truncated", "dropped_steps:1", "clipped_step") and len(rec.scores) == 1
    assert text.endswith(rec.steps[0]) and rec.steps[0].endswith("\\boxed{6}") and len(rec.steps[0]) < 80
    assert short.flags == () and short.scored  # short rollouts are untouched
    assert not too_long.scored and too_long.flags == ("unscored", "too_long")


def test_bf16_scores_stay_close_to_fp32(tiny):
    fp32 = load_critic("visualprm", str(tiny.critic), dtype="fp32")
    bf16 = load_critic("visualprm", str(tiny.critic), dtype="bf16")
    assert bf16.vlm.model.dtype == torch.bfloat16
    reqs = _requests()[:1]
    for a, b in zip(fp32.score(reqs)[0], bf16.score(reqs)[0]):
        assert b.scores == pytest.approx(a.scores, abs=2e-2)
