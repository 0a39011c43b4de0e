"""Fail before the expensive part, and never exit 0 on a failure: typos are one line before any model is
loaded, a dead server is found before sampling, a run whose first attempt wrote nothing takes a corrected
command, every-problem failures exit non-zero, partial ones are listed at the end."""

from __future__ import annotations

import json

import pytest

from tests.engines.openai_stub import StubServer

pytest_plugins = ["tests.fixtures.cli_fixtures", "tests.fixtures.pytest_fixtures"]  # tts; reasoning7_root

DEAD = "http://127.0.0.1:9/v1"  # nothing listens on the discard port


def _lines(result) -> list[str]:
    """stderr's lines but the ``(details: run.log)`` pointer the error contract may add."""
    return [line for line in result.stderr.strip().splitlines() if not line.startswith("(details:")]


@pytest.mark.parametrize("extra,message", [
    (("--critic-option", "max_step=12"), "unknown critic option 'max_step' for visualprm (did you mean 'max_steps'?)"),
    (("--critic-option", "question=rawx"), "critic option question must be one of prompt, raw, got 'rawx'"),
    (("--critic-option", "max_steps=twelve"), "critic option max_steps must be an integer, got 'twelve'"),
    (("--critic-kind", "visualpmr"), "unknown critic 'visualpmr' (did you mean 'visualprm'?)"),
    (("--engine-option", "max_batch_row=2"), "unknown engine option 'max_batch_row' for transformers (did you mean "
                                            "'max_batch_rows'?)"),
    (("--dtype", "bf61"), "--dtype (models.dtype): unknown dtype 'bf61' (did you mean 'bf16'?)"),
    (("--critic", "{tmp}/no/such/critic"), "--critic {tmp}/no/such/critic: no such directory"),
    (("--critic", "{tmp}"), "not a model directory (it has no config.json)"),
    (("--critic", "Open GVLab/VisualPRM"), "no such directory, and not a hub id"),
    # names used only after sampling and scoring: checked first too, not after hours
    (("--strategy", "bestofn"), "unknown strategy 'bestofn' (did you mean 'best_of_n'?)"),
    (("--aggregation", "meen"), "unknown aggregation 'meen' (did you mean 'mean'?)"),
    (("--benchmark", "mathvsta"), "unknown benchmark 'mathvsta' (did you mean 'mathvista'?)"),
    (("--benchmark", "mathvista:testmin"), "mathvista has no split 'testmin'"),
    (("--prompt-set", "internvl_cott"), "unknown prompt set 'internvl_cott' (did you mean 'internvl_cot'?)"),
])
def test_a_mistake_is_one_line_before_anything_is_loaded(extra, message, tts, tiny, tmp_path):
    args = [a.format(tmp=tmp_path) for a in extra]
    critic = [] if "--critic" in args else ["--critic", str(tiny.critic)]
    bench = [] if "--benchmark" in args else ["--benchmark", "demo"]
    result = tts("bestofn", "--policy", tiny.policy, *critic, *args, *bench, "--n", "2", "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    lines = _lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and message.format(tmp=tmp_path) in lines[0], lines
    assert not (tmp_path / "run").exists()  # nothing was started


def test_a_hub_id_offline_and_not_cached_is_refused(tts, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    result = tts("bestofn", "--policy", tiny.policy, "--critic", "OpenGVLab/VisualPRM-8B-v1_1", "--benchmark", "demo",
                 "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert "--critic OpenGVLab/VisualPRM-8B-v1_1: no such directory, and not in the local Hugging Face cache while " \
           "HF_HUB_OFFLINE is set" in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_dead_server_is_one_line_before_sampling(tts, tmp_path):
    result = tts("sample", tmp_path / "run", "--policy", "stub-model", "--engine", "openai", "--engine-option",
                 f"base_url={DEAD}", "--engine-option", "max_retries=0", "--benchmark", "demo", "--limit", "1")
    assert result.exit_code == 2, result.output
    assert f"cannot reach the OpenAI-compatible server at {DEAD}" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "rollouts.jsonl").exists()


def test_the_servers_tiling_fallback_is_recorded_in_the_run(tts, tmp_path):
    with StubServer(owned_by="vllm") as server:  # a stock `vllm serve`: refuses per-request image settings
        result = tts("sample", tmp_path / "run", "--policy", "stub-model", "--engine", "openai", "--engine-option",
                     f"base_url={server.base_url}", "--benchmark", "demo", "--limit", "2", "--n", "2",
                     "--max-new-tokens", "8")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    recorded = manifest["warnings"]["sample"]["examples"]
    assert len(recorded) == 1 and "--trust-request-mm-kwargs" in recorded[0]
    assert f"warning: {recorded[0]}" in result.stderr  # and said again at the end


def test_sampling_that_fails_for_every_problem_exits_non_zero_with_the_first_reason(tts, tmp_path):
    with StubServer(always_fail="role") as server:  # every request's messages have a role: HTTP 500 for all
        result = tts("sample", tmp_path / "run", "--policy", "stub-model", "--engine", "openai", "--engine-option",
                     f"base_url={server.base_url}", "--engine-option", "max_retries=0", "--benchmark", "demo",
                     "--limit", "3", "--n", "2", "--max-new-tokens", "8")
    assert result.exit_code == 2, result.output
    error = _lines(result)[-1]
    assert error.startswith("error: sampling failed for all 3 problem(s) it attempted; the first: demo-")
    assert "internal error (scripted)" in error and "rollouts written" not in result.stdout


def test_a_run_whose_first_attempt_wrote_nothing_takes_a_corrected_command(tmp_path, tiny, detach_run_logs):
    import tts
    from tts.records import Rollout
    from tts.rundir import RunDir

    out = tmp_path / "run"
    with pytest.raises(tts.errors.TTSError, match="cannot reach"):  # a wrong base_url: nothing sampled
        tts.bestofn("stub-model", str(tiny.critic), n=2, benchmarks=["demo"], limit=1, out=out, engine="openai",
                    engine_options={"base_url": DEAD, "max_retries": 0}, max_new_tokens=8, progress=False)
    assert RunDir.open(out, create=False).config("run") is not None  # the failed attempt bound its settings
    with StubServer() as server:  # the corrected command: the right server, and another n and benchmark limit
        result = tts.bestofn("stub-model", str(tiny.critic), n=3, benchmarks=["demo"], limit=2, out=out,
                             engine="openai", engine_options={"base_url": server.base_url}, max_new_tokens=8,
                             progress=False, strategies=("best_of_n",))
    run = RunDir.open(out, create=False)
    assert len(run.read(Rollout)) == 6 and run.config("sampling")["n"] == 3
    assert result.report["accuracy"]["demo"]["best_of_n/mean@3 [visualprm]"]["total"] == 2


@pytest.mark.slow
def test_bestofn_lists_skipped_rows_and_failed_problems_before_the_table(tts, tiny, reasoning7_root, tmp_path):
    with StubServer(always_fail="smallest bar") as server:  # one of the four loadable problems fails
        result = tts("bestofn", "--policy", "stub-model", "--engine", "openai", "--engine-option",
                     f"base_url={server.base_url}", "--engine-option", "max_retries=0", "--critic", tiny.critic,
                     "--benchmark", "mathvista:testmini", "--data-dir", reasoning7_root, "--n", "2",
                     "--max-new-tokens", "8", "--strategy", "best_of_n", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "warning: mathvista:testmini row 4 (mathvista-testmini-5): undecodable image" in result.stderr
    assert "warning: skipped 2 bad dataset row(s)" in result.stderr  # as `tts problems` reports them
    assert "warning: 1 of 4 problems failed to sample" in result.stderr
    assert "mathvista-testmini-3: ServerError" in result.stderr and "internal error (scripted)" in result.stderr
    assert out.index("failed to sample") < out.index("Official metric")  # at the end, before the table
    # a log says what the job does before each bar: loading problems and models
    for line in ("problems: loading mathvista:testmini", "policy: loading stub-model (openai engine)",
                 f"critic: loading {tiny.critic} (visualprm)", "sampling: 8 rollouts to do"):
        assert line in result.stderr


@pytest.mark.parametrize("extra,message", [
    (("--critic", "./no-critic"), "--critic ./no-critic: no such directory"),
    (("--critic", "{critic}", "--critic-option", "question=rawx"), "critic option question must be one of prompt, raw"),
    (("--critic", "{critic}", "--dtype", "fp61"), "unknown dtype 'fp61' (did you mean 'fp16'?)"),
])
def test_score_checks_its_critic_before_loading_it(extra, message, tts, tiny, tmp_path):
    from tests.analysis.synthetic_run import make_run

    run = make_run(tmp_path / "run", problems=1, n=1)
    result = tts("score", run.path, *[a.format(critic=tiny.critic) for a in extra])
    assert result.exit_code == 2, result.output
    assert _lines(result)[0].startswith("error: ") and message in _lines(result)[0]


@pytest.mark.parametrize("extra,message", [
    (("--policy", "{tmp}/no/such/policy"), "--policy {tmp}/no/such/policy: no such directory"),
    (("--critic", "{tmp}/no/such/critic"), "--critic {tmp}/no/such/critic: no such directory"),
    (("--critic-option", "max_step=3"), "unknown critic option 'max_step' for visualprm (did you mean 'max_steps'?)"),
    (("--engine-option", "max_batch_row=2"), "unknown engine option 'max_batch_row' for transformers"),
    (("--strategy", "bestofn"), "unknown strategy 'bestofn' (did you mean 'best_of_n'?)"),
])
def test_search_checks_everything_before_anything_is_loaded(extra, message, tts, tiny, tmp_path):
    """`tts search` loads two models and searches for hours: the same checks as bestofn, first."""
    args = [a.format(tmp=tmp_path) for a in extra]
    models = {"--policy": str(tiny.policy), "--critic": str(tiny.critic)}
    for flag in [f for f in models if f in args]:
        models.pop(flag)
    result = tts("search", *[x for kv in models.items() for x in kv], *args, "--algorithm", "beam", "--n", "2",
                 "--beam-width", "1", "--max-new-tokens", "4", "--benchmark", "demo", "--limit", "1",
                 "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    lines = _lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and message.format(tmp=tmp_path) in lines[0], lines
    assert not (tmp_path / "run").exists()


def test_search_with_a_dead_server_is_one_line_before_the_critic_is_loaded(tts, tiny, tmp_path, monkeypatch):
    from tts import critics

    def no_critic(*args, **kwargs):
        raise AssertionError("the critic was loaded before the server was probed")

    monkeypatch.setattr(critics, "load_critic", no_critic)
    result = tts("search", "--policy", "stub-model", "--engine", "openai", "--engine-option", f"base_url={DEAD}",
                 "--engine-option", "max_retries=0", "--critic", tiny.critic, "--algorithm", "beam", "--n", "2",
                 "--beam-width", "1", "--max-new-tokens", "4", "--benchmark", "demo", "--limit", "1",
                 "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert f"cannot reach the OpenAI-compatible server at {DEAD}" in _lines(result)[-1]
    assert "Traceback" not in result.stderr
    assert "Traceback" in (tmp_path / "run" / "run.log").read_text()  # the details are kept in the run log


def test_a_search_whose_first_attempt_wrote_nothing_takes_a_corrected_command(tts, tiny, tmp_path):
    # As tts bestofn: the failed attempt (a wrong server) bound its settings; the corrected command (the right
    # server, another n, beam width and limit) was refused as a conflicting resume.
    from tts.rundir import RunDir

    out = tmp_path / "run"
    common = ["--policy", "stub-model", "--engine", "openai", "--engine-option", "max_retries=0", "--critic",
              tiny.critic, "--algorithm", "beam", "--max-new-tokens", "4", "--benchmark", "demo", "--out", out]
    failed = tts("search", *common, "--engine-option", f"base_url={DEAD}", "--n", "2", "--beam-width", "1",
                 "--limit", "1")
    assert failed.exit_code == 2 and RunDir.open(out, create=False).config("search") is not None
    with StubServer(owned_by="vllm") as server:  # continuing a partial solution needs vLLM's extensions
        result = tts("search", *common, "--engine-option", f"base_url={server.base_url}", "--n", "4",
                     "--beam-width", "2", "--limit", "2")
    assert result.exit_code == 0, result.output
    run = RunDir.open(out, create=False)
    assert run.config("sampling")["n"] == 4 and run.config("search")["settings"]["beam_width"] == 2


@pytest.mark.parametrize("extra,message", [
    (("--critic", "{tmp}/no/such/critic"), "--critic {tmp}/no/such/critic: no such directory"),
    (("--critic", "{critic}", "--critic-option", "max_step=3"), "unknown critic option 'max_step' for visualprm"),
])
def test_critic_eval_checks_its_critic_before_reading_the_dataset(extra, message, tts, tiny, tmp_path):
    args = [a.format(tmp=tmp_path, critic=tiny.critic) for a in extra]
    result = tts("critic-eval", *args, "--data-dir", tmp_path / "no-dataset-here", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    lines = _lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and message.format(tmp=tmp_path) in lines[0], lines


@pytest.mark.parametrize("extra,message", [
    (("--policy", "{tmp}/no/such/policy"), "--policy {tmp}/no/such/policy: no such directory"),
    (("--engine", "transformers", "--engine-option", "max_batch_row=2"), "unknown engine option 'max_batch_row'"),
    (("--engine-option", "max_batch_row=2"), "unknown engine option 'max_batch_row'"),  # the run's own engine
    (("--engine", "transfomers"), "unknown engine 'transfomers' (did you mean 'transformers'?)"),
])
def test_label_checks_its_policy_before_loading_it(extra, message, tts, tmp_path):
    from tests.analysis.synthetic_run import make_run

    run = make_run(tmp_path / "run", problems=1, n=2)
    result = tts("label", run.path, *[a.format(tmp=tmp_path) for a in extra], "--rollouts", "1")
    assert result.exit_code == 2, result.output
    lines = _lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and message.format(tmp=tmp_path) in lines[0], lines
    assert not (run.path / "labels").exists()
