"""The OpenAI-compatible engine against a scripted loopback server: retries, n fallback, no lost work."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.engines.openai_stub import StubServer
from tts.engines import GenerationRequest, SamplingParams, load_engine
from tts.engines.chat_messages import apportion, user_content
from tts.engines.http_json import ServerError
from tts.engines.openai_engine import OpenAIEngine


@pytest.fixture()
def stub():
    with StubServer() as server:
        yield server


def _engine(stub: StubServer, **kw) -> OpenAIEngine:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("max_retries", 3)
    return load_engine("openai", "stub-model", base_url=stub.base_url, **kw)


def _req(pid="p1", seed=100, prompt="What is 1+1?", **kw) -> GenerationRequest:
    return GenerationRequest(pid, prompt, seed=seed, **kw)


def test_n_samples_in_one_request_with_per_sample_seeds(stub):
    out = _engine(stub).generate([_req()], SamplingParams(n=4, max_new_tokens=16))[0]
    assert [c.sample_idx for c in out] == [0, 1, 2, 3]
    assert [c.text for c in out] == [f"answer seed={100 + i}" for i in range(4)]
    assert len(stub.bodies) == 1 and stub.bodies[0]["n"] == 4 and stub.bodies[0]["seed"] == 100
    body = stub.bodies[0]
    assert body["temperature"] == 0.7 and body["top_p"] == 0.95 and body["max_tokens"] == 16
    assert body["messages"][0]["role"] == "system" and body["messages"][0]["content"].startswith("你是书生·万象")
    assert body["messages"][1] == {"role": "user", "content": "What is 1+1?"}
    assert all(c.finish_reason == "stop" and c.prompt_tokens == 11 for c in out)
    assert sum(c.completion_tokens for c in out) == 12 and all("approx_tokens" in c.flags for c in out)


def test_first_greedy_is_its_own_request_and_keeps_the_seed_rule(stub):
    out = _engine(stub).generate([_req()], SamplingParams(n=3, first_greedy=True))[0]
    bodies = sorted(stub.bodies, key=lambda b: b["n"])
    assert bodies[0]["temperature"] == 0.0 and bodies[0]["n"] == 1 and "seed" not in bodies[0]
    assert bodies[1]["n"] == 2 and bodies[1]["seed"] == 101
    assert out[0].flags[:1] == ("greedy",) and [c.text for c in out[1:]] == ["answer seed=101", "answer seed=102"]


def test_retries_429_500_and_dropped_connections(stub):
    stub.faults = [("status", 429, {"Retry-After": "0"}), ("status", 503), "drop", ("status", 500)]
    out = _engine(stub, max_retries=5).generate([_req()], SamplingParams(n=2))[0]
    assert len(out) == 2 and stub.attempts == 5


def test_retries_a_timeout(stub):
    stub.faults = [("sleep", 1.5)]
    out = _engine(stub, timeout=0.5).generate([_req()], SamplingParams(n=2))[0]
    assert len(out) == 2 and stub.attempts == 2


def test_client_errors_are_not_retried(stub):
    stub.faults = [("status", 401)]
    with pytest.raises(ServerError, match="HTTP 401: scripted 401"):
        _engine(stub).generate([_req()], SamplingParams(n=2))
    assert stub.attempts == 1


def test_falls_back_to_one_request_per_sample_when_n_is_refused(stub):
    stub.refuse_n_always = True
    engine = _engine(stub)
    out = engine.generate([_req(), _req("p2", seed=7)], SamplingParams(n=3))
    assert [c.text for c in out[0]] == [f"answer seed={100 + i}" for i in range(3)]
    assert [c.text for c in out[1]] == [f"answer seed={7 + i}" for i in range(3)]
    assert all(b["n"] == 1 for b in stub.bodies) and engine._n_supported is False
    assert all("approx_tokens" not in c.flags and c.completion_tokens == 3 for c in out[0])


def test_a_server_that_ignores_n_gets_the_missing_samples_one_by_one(stub):
    stub.faults = ["ignore_n"]
    out = _engine(stub).generate([_req()], SamplingParams(n=3))[0]
    assert [c.text for c in out] == [f"answer seed={100 + i}" for i in range(3)]


def test_a_failing_problem_yields_an_error_and_loses_no_other_rollout(stub):
    engine = _engine(stub, max_retries=2)
    requests = [_req("good1"), _req("bad", prompt="ALWAYS-FAIL please"), _req("good2", seed=5)]
    outs = {o.index: o for o in engine.stream(requests, SamplingParams(n=2))}
    assert outs[1].error and "gave up after 3 attempts" in outs[1].error and "HTTP 500" in outs[1].error
    assert outs[1].completions == ()
    assert len(outs[0].completions) == 2 and len(outs[2].completions) == 2 and not outs[0].error
    with pytest.raises(ServerError, match="1 of 3 problems failed"):
        engine.generate(requests, SamplingParams(n=2))


def test_partial_samples_of_a_problem_are_kept(stub):
    """Greedy sample 0 succeeds, the sampled request fails for good: sample 0 is still returned."""
    engine = _engine(stub, max_retries=0)
    stub.faults = [("status", 500)]  # the first request to arrive fails; the other succeeds
    out = next(iter(engine.stream([_req()], SamplingParams(n=3, first_greedy=True))))
    assert out.error and 0 < len(out.completions) < 3


def test_images_are_data_urls_in_placeholder_order(stub):
    imgs = (Image.new("RGB", (4, 4), "red"), Image.new("RGB", (4, 4), "blue"))
    req = GenerationRequest("p", "<image>\n<image>\nCompare them.", imgs, 3)
    _engine(stub).generate([req], SamplingParams(n=1))
    content = stub.bodies[0]["messages"][1]["content"]
    assert [p["type"] for p in content] == ["image_url", "image_url", "text"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[0]["image_url"]["url"] != content[1]["image_url"]["url"] and content[2]["text"] == "Compare them."


def test_placeholder_mismatch_is_a_clear_per_problem_error(stub):
    bad = GenerationRequest("p", "<image><image>Q", (Image.new("RGB", (4, 4)),), 0)
    out = next(iter(_engine(stub).stream([bad], SamplingParams(n=1))))
    assert "2 <image> placeholders for 1 images" in out.error


def test_assistant_prefix_needs_a_vllm_server(stub):
    out = next(iter(_engine(stub).stream([_req(assistant_prefix="So")], SamplingParams(n=1))))
    assert "continue_final_message" in out.error
    stub_vllm = _engine(stub, vllm_extensions=True)
    stub_vllm.generate([_req(assistant_prefix="So", max_tiles=6)], SamplingParams(n=1, top_k=20))
    body = stub.bodies[-1]
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert body["messages"][-1] == {"role": "assistant", "content": "So"}
    assert body["return_token_ids"] is True
    assert "mm_processor_kwargs" not in body  # a tiling cap means nothing without images


def test_tiling_cap_travels_with_images_to_vllm_servers(stub):
    img = (Image.new("RGB", (4, 4), "red"),)
    _engine(stub, vllm_extensions=True).generate([_req(prompt="<image>\nQ", images=img, max_tiles=6)],
                                                 SamplingParams(n=1))
    assert stub.bodies[-1]["mm_processor_kwargs"] == {"max_dynamic_patch": 6}
    _engine(stub).generate([_req(prompt="<image>\nQ", images=img, max_tiles=6)], SamplingParams(n=1))
    assert "mm_processor_kwargs" not in stub.bodies[-1]  # plain OpenAI servers reject unknown fields


def test_api_key_comes_from_the_environment(stub, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test")
    assert _engine(stub, api_key_env="MY_KEY").client.headers()["Authorization"] == "Bearer sk-test"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert "Authorization" not in _engine(stub).client.headers()


def test_user_content_and_apportion_helpers():
    assert user_content("Q", []) == "Q"
    parts = user_content("Look: <image> and <image>\nthen answer.", ["a", "b"])
    assert [p.get("text") for p in parts] == ["Look: ", None, " and ", None, "then answer."]
    assert apportion(7, [0, 0]) == [4, 3] and sum(apportion(100, [3, 5, 9])) == 100


def test_sample_stage_keeps_completed_problems_when_the_server_fails(stub, tmp_path):
    """Bad input end to end: one problem's requests always fail; the others are on disk, the failure is
    reported, and a re-run against a healthy server completes the run without regenerating anything."""
    from tts.records import Problem, Rollout
    from tts.rundir import RunDir
    from tts.stages import sample

    run = RunDir.open(tmp_path / "run")
    problems = [Problem(id=f"q{i}", benchmark="demo", split="test", question=q)
                for i, q in enumerate(["1+1?", "ALWAYS-FAIL 2+2?", "3+3?"])]
    run.append(problems)
    params = SamplingParams(n=3, max_new_tokens=8)
    summary = sample(run, _engine(stub, max_retries=1), params, problems, batch_size=3, progress=False)
    assert summary.failed == 1 and summary.written == 6
    assert sorted({r.problem_id for r in run.read(Rollout)}) == ["q0", "q2"]
    warning = run.manifest["warnings"]["sample"]
    assert warning["count"] == 1 and warning["examples"][0].startswith("q1: ServerError") and "HTTP 500" in warning["examples"][0]
    stub.always_fail = "never-matches"
    before = stub.attempts
    summary = sample(run, _engine(stub), params, problems, batch_size=3, progress=False)
    assert summary.written == 3 and summary.skipped_done == 2 and stub.attempts == before + 1
    assert len(run.read(Rollout)) == 9


def test_inline_image_placement_keeps_placeholders_in_the_text(stub):
    imgs = (Image.new("RGB", (4, 4), "red"), Image.new("RGB", (4, 4), "blue"))
    req = GenerationRequest("p", "Compare <image> with <image>.", imgs, 3)
    _engine(stub, image_placement="inline").generate([req], SamplingParams(n=1))
    content = stub.bodies[0]["messages"][1]["content"]
    assert [p["type"] for p in content] == ["image_url", "image_url", "text"]
    assert content[2]["text"] == "Compare <image> with <image>."
    with pytest.raises(ValueError, match="image placement"):
        _engine(stub, image_placement="middle")
