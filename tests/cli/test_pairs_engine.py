"""``tts pairs --method dropout-ntp`` continues responses the way the run sampled them: same engine, same
engine options (here: an OpenAI-compatible server's base_url), and it prints why continuations failed."""

from __future__ import annotations

import json

import pytest

from tests.engines.openai_stub import StubServer
from tts.jsonl import read_jsonl
from tts.rundir import RunDir

pytest_plugins = ["tests.fixtures.cli_fixtures"]  # tts, detach_run_logs


@pytest.fixture()
def server():
    with StubServer(owned_by="vllm") as stub:  # a vLLM server: it continues a pre-filled assistant turn
        yield stub


def _sampled_through(server: StubServer, tts, path) -> None:
    result = tts("sample", path, "--policy", "stub-model", "--engine", "openai", "--engine-option",
                 f"base_url={server.base_url}", "--engine-option", "max_retries=0", "--benchmark", "demo",
                 "--limit", "2", "--n", "2", "--max-new-tokens", "16")
    assert result.exit_code == 0, result.output
    assert tts("grade", path).exit_code == 0


def test_dropout_ntp_reuses_the_runs_server(server, tts, tmp_path):
    run = tmp_path / "run"
    _sampled_through(server, tts, run)
    recorded = RunDir.open(run, create=False).manifest["policy_engine"]
    assert recorded == {"engine": "openai", "options": {"base_url": server.base_url, "max_retries": 0}}
    sampled = len(server.bodies)
    result = tts("pairs", run, "--method", "dropout-ntp", "--chosen-from", "any", "--out", tmp_path / "pairs")
    assert result.exit_code == 0, result.output
    continued = server.bodies[sampled:]
    assert len(continued) == 2 and all(b["continue_final_message"] for b in continued)  # one per problem
    assert all(b["model"] == "stub-model" for b in continued)
    assert len(read_jsonl(run / "pairs" / "dropout_ntp.jsonl")) == 2
    report = json.loads((tmp_path / "pairs" / "reports" / "dropout_ntp.json").read_text())
    assert "generation_failures" not in report["report"]["counts"] and "failed" not in result.stderr


def test_dropout_ntp_with_the_server_gone_is_one_line_before_any_job(server, tts, tmp_path):
    run = tmp_path / "run"
    _sampled_through(server, tts, run)
    server.__exit__(None, None, None)  # the server is gone when the pairs are made: the preflight says so
    result = tts("pairs", run, "--method", "dropout-ntp", "--chosen-from", "any", "--out", tmp_path / "pairs")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot reach the OpenAI-compatible server at {server.base_url}")
    assert "Traceback" not in result.stderr and not read_jsonl(run / "pairs" / "dropout_ntp.jsonl")


def test_dropout_ntp_prints_why_continuations_failed(server, tts, tmp_path):
    run = tmp_path / "run"
    _sampled_through(server, tts, run)
    server.always_fail = "answer"  # the server answers its probe, and fails every continuation of "answer seed=…"
    result = tts("pairs", run, "--method", "dropout-ntp", "--chosen-from", "any", "--out", tmp_path / "pairs")
    assert result.exit_code == 0, result.output
    assert "warning: 2 continuation(s) failed" in result.stderr
    assert result.stderr.count("demo-") >= 1 and "ServerError" in result.stderr  # the reason, per problem
    report = json.loads((tmp_path / "pairs" / "reports" / "dropout_ntp.json").read_text())
    assert report["report"]["counts"]["generation_failures"] == 2 and len(report["report"]["warnings"]) == 2


def test_engine_options_on_the_command_line_win(server, tts, tmp_path):
    run = tmp_path / "run"
    _sampled_through(server, tts, run)
    with StubServer(owned_by="vllm") as other:
        result = tts("pairs", run, "--method", "dropout-ntp", "--chosen-from", "any", "--out", tmp_path / "pairs",
                     "--engine-option", f"base_url={other.base_url}")
        assert result.exit_code == 0, result.output
        assert len(other.bodies) == 2
