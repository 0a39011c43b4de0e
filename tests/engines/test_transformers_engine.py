import pytest
from PIL import Image

from tts.engines import GenerationRequest, SamplingParams, load_engine


@pytest.fixture(scope="module", params=["native", "remote"])
def engine(tiny, request):
    path = tiny.policy if request.param == "native" else tiny.policy_remote
    eng = load_engine("transformers", str(path))
    assert eng.vlm.style == request.param
    return eng


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
    tower = engine.vlm.model.model.vision_tower if engine.vlm.style == "native" else engine.vlm.model.vision_model
    handle = tower.register_forward_hook(lambda *a: calls.append(1))
    try:
        engine.generate([_request(n_images=2), _request(seed=5)], SamplingParams(n=8, max_new_tokens=8, first_greedy=True))
    finally:
        handle.remove()
    assert len(calls) == 2


def test_placeholders_must_match_images(engine):
    bad = GenerationRequest("p", "<image><image>Q", (Image.new("RGB", (8, 8)),), 0)
    with pytest.raises(ValueError, match="2 <image> placeholders for 1 images"):
        engine.render(bad)


def test_prompt_is_internvl_chatml_with_its_system_message(engine):
    text = engine.render(_request())
    assert text.startswith("<|im_start|>system\n你是书生·万象")
    assert text.endswith("<|im_start|>user\n<image>\nHow many circles?<|im_end|>\n<|im_start|>assistant\n")


def test_native_prompt_tokens_equal_the_checkpoints_chat_template_and_processor(tiny):
    """Our rendering is the one the -hf checkpoint's own template and processor produce."""
    eng = load_engine("transformers", str(tiny.policy))
    req = _request(n_images=2)
    pixel_values, tiles = eng.vlm.pixel_values(req.images, None)
    ours = eng.vlm.encode(eng.vlm.expand_images(eng.render(req), tiles))
    proc = eng.vlm.processor
    messages = [{"role": "system", "content": eng.system_message},
                {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "How many circles?"}]}]
    text = proc.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    theirs = proc(text=[text], images=list(req.images), return_tensors="pt")
    assert ours == theirs["input_ids"][0].tolist()
    assert pixel_values.shape == theirs["pixel_values"].shape


def test_remote_and_native_styles_agree_on_the_same_weights(tiny):
    """The remote-code path (our InternVL tiling + prompt) computes what transformers' native port computes."""
    req = _request(seed=11)
    params = SamplingParams(n=1, max_new_tokens=6, temperature=0.0)
    native = load_engine("transformers", str(tiny.policy)).generate([req], params)[0][0]
    remote = load_engine("transformers", str(tiny.policy_remote)).generate([req], params)[0][0]
    assert native.prompt_tokens == remote.prompt_tokens
    assert native.text == remote.text


def test_assistant_prefix_is_continued(engine):
    req = GenerationRequest("p", "Continue.", (), 1, assistant_prefix="The answer is")
    assert engine.render(req).endswith("<|im_start|>assistant\nThe answer is")
    out = engine.generate([req], SamplingParams(n=2, max_new_tokens=4))[0]
    assert len(out) == 2 and not out[0].text.startswith("The answer is")
