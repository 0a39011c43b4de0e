"""Continuations on the transformers engine: per-request n / caps / greedy, stop strings (finish ``step``),
the repetition stopper never reporting ``step``, and the per-problem image cache of a search."""

from __future__ import annotations

import pytest
from PIL import Image

from tts.engines import GenerationRequest, SamplingParams, load_engine


@pytest.fixture(scope="module", params=["native", "remote"])
def engine(tiny, request):
    path = tiny.policy if request.param == "native" else tiny.policy_remote
    return load_engine("transformers", str(path))


def _request(pid="p1", seed=1, **kw):
    img = Image.new("RGB", (120, 90), "white")
    return GenerationRequest(pid, "<image>\nHow many circles?", (img,), seed, **kw)


@pytest.fixture()
def script(engine):
    """Force each row's next tokens: ``script["rows"][r]`` is the token list row r writes (then EOS)."""
    eos = engine.vlm.tokenizer.convert_tokens_to_ids("<|im_end|>")
    state = {"t": 0, "rows": []}

    def hook(module, args, output):
        logits = output.clone()
        t = state["t"]
        state["t"] += 1
        logits[:, -1, :] = -1e4
        for r in range(logits.shape[0]):
            row = state["rows"][r % len(state["rows"])]
            logits[r, -1, row[t] if t < len(row) else eos] = 1e4
        return logits

    handle = engine.vlm.language_model.get_output_embeddings().register_forward_hook(hook)
    yield state
    handle.remove()


def _ids(engine, text):
    return engine.vlm.tokenizer.encode(text, add_special_tokens=False)


def test_a_stop_string_ends_the_row_with_finish_step_and_is_left_out(engine, script):
    script["rows"] = [_ids(engine, "x = 2\n\ny = 3")]
    (c,) = engine.generate([_request(stop=("\n\n",))], SamplingParams(n=1, max_new_tokens=30))[0]
    assert (c.text, c.finish_reason) == ("x = 2", "step")
    assert c.completion_tokens == len(_ids(engine, "x = 2\n\n"))  # the stop string's tokens are counted


def test_a_stop_string_inside_a_token_overhangs(engine, script):
    """``.\\n\\n`` is one token of this tokenizer: the stop fires on it and the text keeps the period."""
    script["rows"] = [_ids(engine, "The answer is 2.\n\nSo")]
    assert len(_ids(engine, ".\n\n")) == 1
    (c,) = engine.generate([_request(stop=("\n\n",))], SamplingParams(n=1, max_new_tokens=30))[0]
    assert (c.text, c.finish_reason) == ("The answer is 2.", "step")
    assert c.completion_tokens == len(_ids(engine, "The answer is 2.\n\n"))


def test_end_of_sequence_is_stop_and_the_cap_is_length(engine, script):
    script["rows"] = [_ids(engine, "x = 2")]
    (c,) = engine.generate([_request(stop=("\n\n",))], SamplingParams(n=1, max_new_tokens=30))[0]
    assert (c.text, c.finish_reason, c.completion_tokens) == ("x = 2", "stop", len(_ids(engine, "x = 2")) + 1)
    script["t"] = 0
    (c,) = engine.generate([_request(stop=("\n\n",), max_new_tokens=2)], SamplingParams(n=1, max_new_tokens=30))[0]
    assert (c.finish_reason, c.completion_tokens) == ("length", 2)


def test_rows_of_one_call_stop_on_their_own_terms(engine, script):
    """Different stops and caps in one generate call; a capped row's padding is never read as its end."""
    script["rows"] = [_ids(engine, "a\n\nb c d e f g h")]
    reqs = [_request("s", stop=("\n\n",)), _request("cap", max_new_tokens=3), _request("free")]
    stepped, capped, free = (out[0] for out in engine.generate(reqs, SamplingParams(n=1, max_new_tokens=40)))
    assert (stepped.text, stepped.finish_reason) == ("a", "step")
    assert (capped.finish_reason, capped.completion_tokens) == ("length", 3)
    assert (free.text, free.finish_reason) == ("a\n\nb c d e f g h", "stop")


def test_a_row_ended_by_its_stop_string_stays_a_step_while_others_run_long(engine, script):
    """Padding after a row's stop string repeats; the loop stopper watching it must not turn the step into a
    loop (found by bench/search.py: a batch whose longest row runs past the loop thresholds)."""
    long = list(range(10, 130))  # 120 distinct tokens: no loop
    script["rows"] = [_ids(engine, "a\n\n"), long]
    step, free = engine.generate([_request("s", stop=("\n\n",), n=2, max_new_tokens=150)],
                                 SamplingParams(n=2, max_new_tokens=150))[0]
    assert (step.text, step.finish_reason, step.flags) == ("a", "step", ())
    assert step.completion_tokens == len(_ids(engine, "a\n\n"))
    assert (free.finish_reason, free.completion_tokens) == ("stop", 121) and "repetition" not in free.flags


def test_the_repetition_stopper_never_reports_step(engine, script):
    """A stop string completed by the very token at which the loop stopper fires: the row is a loop
    (``length`` + ``repetition``), never a step."""
    script["rows"] = [_ids(engine, "A B C ") * 40]
    (loop,) = engine.generate([_request()], SamplingParams(n=1, max_new_tokens=200))[0]
    assert loop.finish_reason == "length" and "repetition" in loop.flags and loop.completion_tokens < 200
    stop = loop.text  # first completed exactly where the loop was detected
    script["t"] = 0
    (both,) = engine.generate([_request(stop=(stop,))], SamplingParams(n=1, max_new_tokens=200))[0]
    assert (both.finish_reason, both.completion_tokens, both.text) == ("length", loop.completion_tokens, loop.text)
    assert "repetition" in both.flags
    script["t"] = 0
    early = stop[: len(stop) // 2]  # a stop string that fires before the loop qualifies: a plain step
    (step,) = engine.generate([_request(stop=(early,))], SamplingParams(n=1, max_new_tokens=200))[0]
    assert step.finish_reason == "step" and "repetition" not in step.flags


def test_per_request_n_caps_and_greedy_in_one_call(engine):
    params = SamplingParams(n=4, max_new_tokens=12)
    a, b, c = engine.generate([_request("a", seed=3, n=2, max_new_tokens=5),
                               _request("b", seed=4, n=3, greedy=True),
                               _request("c", seed=5)], params)
    assert [len(a), len(b), len(c)] == [2, 3, 4]
    assert all(x.completion_tokens <= 5 for x in a) and all(x.completion_tokens <= 12 for x in b + c)
    assert len({x.text for x in b}) == 1 and all("greedy" in x.flags for x in b)
    alone = engine.generate([_request("b", seed=4)], SamplingParams(n=1, max_new_tokens=12, temperature=0.0))[0][0]
    assert b[0].text == alone.text
    # a request's samples do not depend on the other requests of the call (seeds per row)
    a_alone = engine.generate([_request("a", seed=3, n=2, max_new_tokens=5)], params)[0]
    assert [x.text for x in a_alone] == [x.text for x in a]


def test_random_text_with_a_stop_is_the_free_text_cut_at_it(engine):
    """On the tiny model's own (seeded) text: stopping at a string that occurs gives the text before it."""
    free = engine.generate([_request(seed=7)], SamplingParams(n=6, max_new_tokens=40))[0]
    import re

    # a stop string of plain letters (random bytes decode to U+FFFD, which no token sequence spells)
    found = [(i, m.group()) for i, c in enumerate(free) for m in [re.search(r"[a-z]{2}", c.text[2:])] if m]
    assert found
    i, stop = found[0]
    text = free[i].text
    cut = engine.generate([_request(seed=7, stop=(stop,))], SamplingParams(n=6, max_new_tokens=40))[0][i]
    assert cut.finish_reason == "step" and cut.text == text[: text.find(stop)]
    assert cut.completion_tokens <= free[i].completion_tokens


def test_the_image_is_encoded_once_per_problem_inside_the_cache(engine):
    calls = []
    vlm = engine.vlm
    tower = vlm.model.model.vision_tower if vlm.style == "native" else vlm.model.vision_model
    handle = tower.register_forward_hook(lambda *a: calls.append(1))
    params = SamplingParams(n=2, max_new_tokens=4)
    try:
        plain = engine.generate([_request(seed=2)], params)[0]
        engine.generate([_request(seed=2)], params)
        assert len(calls) == 2  # outside the cache: every call encodes
        calls.clear()
        with engine.image_cache():
            first = engine.generate([_request(seed=2), _request("q", seed=3)], params)[0]
            again = engine.generate([_request(seed=2, assistant_prefix="x\n\n")], params)
            assert len(calls) == 2  # p1 and q once each, p1 not again
            engine.release_images("p1")
            engine.generate([_request(seed=2)], params)
            assert len(calls) == 3
        engine.generate([_request(seed=2)], params)
        assert len(calls) == 4
    finally:
        handle.remove()
    assert [c.text for c in first] == [c.text for c in plain] and len(again[0]) == 2
