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


def test_a_policy_class_without_post_init_loads_and_samples_as_the_same_weights(tiny):
    """InternVL3/3.5's hub files never call post_init(); transformers 5 cannot load them unaided (issue 16)."""
    params = SamplingParams(n=3, max_new_tokens=10, first_greedy=True)
    legacy = load_engine("transformers", str(tiny.policy_no_post_init))
    assert legacy.info()["architecture"] == "TinyInternVLChatModelWithoutPostInit"
    expected = load_engine("transformers", str(tiny.policy_remote)).generate([_request()], params)[0]
    assert [c.text for c in legacy.generate([_request()], params)[0]] == [c.text for c in expected]


def test_assistant_prefix_is_continued(engine):
    req = GenerationRequest("p", "Continue.", (), 1, assistant_prefix="The answer is")
    assert engine.render(req).endswith("<|im_start|>assistant\nThe answer is")
    out = engine.generate([req], SamplingParams(n=2, max_new_tokens=4))[0]
    assert len(out) == 2 and not out[0].text.startswith("The answer is")


def test_samples_follow_the_per_sample_seed_rule(engine):
    """Sample i depends only on (problem seed, i): N=3 is a prefix of N=6, first_greedy keeps samples 1.."""
    six = [c.text for c in engine.generate([_request(seed=21)], SamplingParams(n=6, max_new_tokens=10))[0]]
    three = [c.text for c in engine.generate([_request(seed=21)], SamplingParams(n=3, max_new_tokens=10))[0]]
    greedy_first = engine.generate([_request(seed=21)], SamplingParams(n=3, max_new_tokens=10, first_greedy=True))[0]
    assert three == six[:3] and len(set(six)) > 1
    assert [c.text for c in greedy_first[1:]] == six[1:3]


def test_small_batches_change_nothing_and_still_encode_each_image_once(engine, tiny):
    params = SamplingParams(n=4, max_new_tokens=8, first_greedy=True)
    reqs = [_request(seed=1, n_images=2), _request(seed=2), GenerationRequest("t", "No image here.", (), 3)]
    wide = engine.generate(reqs, params)
    narrow_engine = load_engine("transformers", str(tiny.policy if engine.vlm.style == "native" else tiny.policy_remote),
                                max_batch_rows=3)  # every problem needs its own generate call (and then some)
    calls = []
    vlm = narrow_engine.vlm
    tower = vlm.model.model.vision_tower if vlm.style == "native" else vlm.model.vision_model
    handle = tower.register_forward_hook(lambda *a: calls.append(1))
    try:
        narrow = narrow_engine.generate(reqs, params)
    finally:
        handle.remove()
    assert [[c.text for c in cs] for cs in narrow] == [[c.text for c in cs] for cs in wide]
    assert len(calls) == 2  # two problems with images, one vision call each


@pytest.fixture()
def scripted_lm(engine):
    """Force the LM's next token per row: row 0 cycles through 3 tokens, row 1 ends at step 5."""
    tok = engine.vlm.tokenizer
    cycle = [tok.convert_tokens_to_ids(t) for t in ("A", "B", "C")]
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    step = {"n": 0}

    def hook(module, args, output):
        logits = output.clone()
        t = step["n"]  # one LM-head call per decoding step (the prefill's is step 0)
        step["n"] += 1
        logits[:, -1, :] = -1e4
        logits[0, -1, cycle[t % 3]] = 1e4
        if logits.shape[0] > 1:
            logits[1:, -1, eos if t == 5 else cycle[0] + 1 + (t % 50)] = 1e4
        return logits

    head = engine.vlm.language_model.get_output_embeddings()
    handle = head.register_forward_hook(hook)
    yield step
    handle.remove()


def test_a_looping_rollout_is_stopped_early_and_flagged(engine, scripted_lm):
    req = GenerationRequest("loop", "Hi?", (), 3)
    out = engine.generate([req], SamplingParams(n=2, max_new_tokens=200))[0]
    looped, ended = out
    assert looped.completion_tokens == 64 and looped.finish_reason == "length" and "repetition" in looped.flags
    assert looped.text.startswith("ABCABC")
    assert ended.finish_reason == "stop" and ended.completion_tokens == 6 and "repetition" not in ended.flags
    scripted_lm["n"] = 0
    full = engine.generate([req], SamplingParams(n=2, max_new_tokens=100, stop_on_repetition=False))[0][0]
    assert full.completion_tokens == 100 and "repetition" in full.flags and full.text.startswith(looped.text)


def test_a_tokenizer_bos_starts_the_prompt_as_model_chat_tokenizes_it(tiny):
    """InternLM-based policies (InternVL3-9B) add <s>: model.chat, the processor and vLLM all keep it."""
    eng = load_engine("transformers", str(tiny.policy))
    text = eng.render(_request())
    plain = eng.vlm.encode(text)
    eng.vlm.tokenizer.bos_token, eng.vlm.tokenizer.add_bos_token = "<|endoftext|>", True
    bos = eng.vlm.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert eng.vlm.encode(text) == [bos, *plain] == eng.vlm.tokenizer(text)["input_ids"]
    out = eng.generate([_request(seed=3)], SamplingParams(n=1, max_new_tokens=2, temperature=0.0))[0][0]
    assert out.prompt_tokens == len(eng.vlm.encode(eng.vlm.expand_images(text, eng.vlm.pixel_values(_request().images, None)[1])))
