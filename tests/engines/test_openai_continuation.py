"""Continuation fields of the OpenAI engine: per-request n / caps / greedy / stop in the request bodies, the
finish reason ``step`` read from vLLM's ``stop_reason`` (SGLang's ``matched_stop``), plain servers refused.
The real ``vllm serve`` behaviour is in test_vllm_continuation.py."""

from __future__ import annotations

from types import SimpleNamespace

import openai._base_client
import pytest

from tests.engines.openai_stub import StubServer
from tts.engines import GenerationRequest, SamplingParams, load_engine
from tts.engines.openai_calls import Call, parse_choices
from tts.engines.openai_server import ServerError
from tts.engines.repetition import RepetitionDetector


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch):
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.001)


def _choice(text, finish="stop", index=0, **extra):
    return SimpleNamespace(index=index, finish_reason=finish, message=SimpleNamespace(content=text), **extra)


def _response(*choices, tokens=3):
    return SimpleNamespace(choices=list(choices), usage=SimpleNamespace(prompt_tokens=5, completion_tokens=tokens))


@pytest.mark.parametrize(("extra", "finish"), [
    ({"stop_reason": "\n\n"}, "step"),  # vLLM: the stop string that fired
    ({"matched_stop": "\n\n"}, "step"),  # SGLang
    ({"stop_reason": None}, "stop"),  # end of sequence
    ({"stop_reason": 151645}, "stop"),  # a stop token id (<|im_end|>): end of sequence
    ({"stop_reason": "repetition_detected"}, "stop"),  # a str that is not one of the request's stops
    ({}, "stop"),
])
def test_finish_reason_step_only_for_the_requests_own_stop_string(extra, finish):
    (c,) = parse_choices(_response(_choice("x = 2", **extra)), Call(0, 1, 7, False), 0.1, RepetitionDetector(),
                         stops=("\n\n",))
    assert c.finish_reason == finish and c.text == "x = 2"


def test_a_stop_string_firing_where_a_loop_qualifies_is_a_loop_not_a_step():
    detector = RepetitionDetector(min_repeats=4, min_span=8, max_period=4)
    ids = [1, 2] * 4  # the loop qualifies at the last token
    looped = _choice("abab", stop_reason="\n\n", token_ids=ids)
    (c,) = parse_choices(_response(looped), Call(0, 1, 7, False), 0.1, detector, stops=("\n\n",))
    assert c.finish_reason == "length" and "repetition" in c.flags
    plain = _choice("x", stop_reason="\n\n", token_ids=[5, 6, 7])
    (c,) = parse_choices(_response(plain), Call(0, 1, 7, False), 0.1, detector, stops=("\n\n",))
    assert c.finish_reason == "step" and c.completion_tokens == 3


def test_request_overrides_reach_the_request_bodies():
    with StubServer(owned_by="vllm") as stub:
        engine = load_engine("openai", "stub-model", base_url=stub.base_url, max_retries=1)
        assert engine.continuation_support() is None
        reqs = [GenerationRequest("a", "Q", seed=10, n=2, max_new_tokens=5, stop=("\n\n",), assistant_prefix="x\n\n"),
                GenerationRequest("b", "Q", seed=20, greedy=True, n=3)]
        a, b = engine.generate(reqs, SamplingParams(n=4, max_new_tokens=64))
        assert [len(a), len(b)] == [2, 3] and len({c.text for c in b}) == 1
        bodies = {body["seed"] if "seed" in body else "greedy": body for body in stub.bodies}
        assert bodies[10]["n"] == 2 and bodies[10]["max_tokens"] == 5 and bodies[10]["stop"] == ["\n\n"]
        assert bodies[10]["continue_final_message"] is True and bodies[10]["add_generation_prompt"] is False
        assert bodies[10]["messages"][-1] == {"role": "assistant", "content": "x\n\n"}
        assert bodies["greedy"]["n"] == 1 and bodies["greedy"]["temperature"] == 0.0 and "stop" not in bodies["greedy"]
        assert len(stub.bodies) == 2


def test_plain_servers_cannot_continue():
    with StubServer() as stub:
        engine = load_engine("openai", "stub-model", base_url=stub.base_url, max_retries=1)
        assert "not a vLLM server" in engine.continuation_support()
        with pytest.raises(ServerError, match="stop strings need a vLLM server"):
            engine.generate([GenerationRequest("a", "Q", seed=1, stop=("\n\n",))], SamplingParams(n=1))
