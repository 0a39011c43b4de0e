import pytest
from PIL import Image

from tts.engines import GenerationRequest, SamplingParams, load_engine
from tts.engines.transformers_engine import content_parts


@pytest.fixture(scope="module")
def engine(tiny):
    return load_engine("transformers", str(tiny.policy))


def _request(seed=1, n_images=1):
    imgs = tuple(Image.new("RGB", (120, 90), c) for c in ("white", "black")[:n_images])
    prompt = "<image>\n" * n_images + "How many circles?"
    return GenerationRequest("p1", prompt, imgs, seed)


def test_n_rollouts_per_problem_with_a_greedy_first(engine):
    out = engine.generate([_request()], SamplingParams(n=5, max_new_tokens=12, first_greedy=True))
    assert len(out) == 1 and [c.sample_idx for c in out[0]] == [0, 1, 2, 3, 4]
    assert out[0][0].flags == ("greedy",) and out[0][1].flags == ()
    for c in out[0]:
        assert c.finish_reason in ("stop", "length")
        assert 0 < c.completion_tokens <= 12 and c.prompt_tokens > 20


def test_same_seed_same_rollouts_other_seed_differs(engine):
    params = SamplingParams(n=4, max_new_tokens=16)
    a = [c.text for c in engine.generate([_request(seed=3)], params)[0]]
    b = [c.text for c in engine.generate([_request(seed=3)], params)[0]]
    c = [c.text for c in engine.generate([_request(seed=4)], params)[0]]
    assert a == b and a != c


def test_batching_does_not_change_a_problems_rollouts(engine):
    params = SamplingParams(n=3, max_new_tokens=12)
    alone = engine.generate([_request(seed=9)], params)[0]
    together = engine.generate([_request(seed=2), _request(seed=9)], params)[1]
    assert [c.text for c in alone] == [c.text for c in together]


def test_vision_tower_runs_once_per_problem(engine):
    calls = []
    handle = engine.loaded.model.model.vision_tower.register_forward_hook(lambda *a: calls.append(1))
    try:
        engine.generate([_request(n_images=2), _request(seed=5)], SamplingParams(n=8, max_new_tokens=8, first_greedy=True))
    finally:
        handle.remove()
    assert len(calls) == 2


def test_placeholders_must_match_images():
    assert content_parts("<image>\nQ", 1) == [{"type": "image"}, {"type": "text", "text": "Q"}]
    with pytest.raises(ValueError, match="2 <image> placeholders for 1 images"):
        content_parts("<image><image>Q", 1)


def test_prompt_uses_internvl_system_message_and_chat_template(engine):
    text = engine.render(_request())
    assert text.startswith("<|im_start|>system\n你是书生·万象")
    assert "<|im_start|>user\n<IMG_CONTEXT>\nHow many circles?<|im_end|>\n<|im_start|>assistant\n" in text
