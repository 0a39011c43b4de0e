"""tts.preflight: what a run needs is checked before anything is loaded, and cheaply."""

from __future__ import annotations

import pytest

from tts import preflight
from tts.errors import ConfigError, UnknownName
from tts.preflight import (
    check_critic,
    check_device,
    check_dtype,
    check_engine,
    check_model,
    forget_unwritten_settings,
)
from tts.records import Problem, Rollout
from tts.rundir import RunDir


@pytest.fixture()
def no_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(preflight, "_cached", lambda repo, revision: False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


def test_local_paths(tmp_path, tiny):
    assert check_model(str(tiny.critic), "--critic") is None
    with pytest.raises(ConfigError, match=r"^--critic ./nope: no such directory$"):
        check_model("./nope", "--critic")
    with pytest.raises(ConfigError, match="runs/a/b: no such directory"):
        check_model("runs/a/b", "--policy")  # two slashes: a path, never a hub id
    with pytest.raises(ConfigError, match="not a model directory"):
        check_model(str(tmp_path), "--policy")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        check_model(str(tmp_path / "file"), "--policy")


def test_hub_ids_offline_must_be_cached(no_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="not in the local Hugging Face cache while HF_HUB_OFFLINE is set"):
        check_model("OpenGVLab/VisualPRM-8B-v1_1", "--critic")
    monkeypatch.setattr(preflight, "_cached", lambda repo, revision: True)
    assert check_model("OpenGVLab/VisualPRM-8B-v1_1", "--critic") is None
    with pytest.raises(ConfigError, match="not a hub id"):
        check_model("Open GVLab/x", "--critic")


def test_one_hub_request_for_an_id_not_cached(no_cache, monkeypatch):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    asked = []

    def missing(self, repo_id, **kw):
        asked.append(repo_id)
        error = RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # as the hub client raises it on a 404
        Exception.__init__(error, "404 Client Error: Repository Not Found")
        raise error

    monkeypatch.setattr(HfApi, "model_info", missing)
    with pytest.raises(ConfigError, match="the Hugging Face Hub has no model 'OpenGVLab/VisualPRM-8B-v1_2'"):
        check_model("OpenGVLab/VisualPRM-8B-v1_2", "--critic")
    assert asked == ["OpenGVLab/VisualPRM-8B-v1_2"]
    assert check_model("OpenGVLab/VisualPRM-8B-v1_2", "--critic", hub=False) is None  # no request at all
    assert len(asked) == 1

    def unreachable(self, repo_id, **kw):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(HfApi, "model_info", unreachable)  # no network: a warning, never an error
    warning = check_model("OpenGVLab/VisualPRM-8B-v1_1", "--critic")
    assert warning.startswith("could not reach the Hugging Face Hub to check --critic OpenGVLab/VisualPRM-8B-v1_1")


@pytest.mark.parametrize("call,message", [
    (lambda: check_critic("visualprm", {"max_step": 12}), "did you mean 'max_steps'?"),
    (lambda: check_critic("visualprm", {"max_steps": 0}), "critic option max_steps must be at least 1"),
    (lambda: check_critic("visualprm", {"backend": "vlm"}), "critic option backend must be one of transformers, vllm"),
    (lambda: check_critic("math-shepherd", {"step_tag": 3}), None),  # YAML read a number: a string is fine
    (lambda: check_engine("openai", {"concurency": 4}), "did you mean 'concurrency'?"),
    (lambda: check_engine("openai", {"tiling": "servr"}), "engine option tiling must be one of auto, request, server"),
    (lambda: check_engine("openai", {"timeout": "long"}), "engine option timeout must be a number, got 'long'"),
    (lambda: check_engine("transformers", {"dtype": "bf61"}), "unknown dtype 'bf61' (did you mean 'bf16'?)"),
    (lambda: check_dtype("float64"), "unknown dtype 'float64'"),
    (lambda: check_device("gpu0"), "'gpu0' is not a device"),
])
def test_options_are_checked_by_name_and_value(call, message):
    if message is None:
        call()
        return
    with pytest.raises(ConfigError) as info:
        call()
    assert message in str(info.value)


def test_unknown_kinds_have_a_did_you_mean():
    with pytest.raises(UnknownName, match="did you mean 'visualprm'"):
        check_critic("visualpmr", {})
    with pytest.raises(UnknownName, match="did you mean 'openai'"):
        check_engine("opanai", {})


def test_vllm_engine_arguments_are_known(monkeypatch):
    monkeypatch.setattr(preflight, "needs_vllm", lambda what: None)
    monkeypatch.setattr(preflight, "vllm_engine_arguments", lambda: ["tensor_parallel_size", "enforce_eager"])
    check_engine("vllm", {"tensor_parallel_size": 2, "enforce_eager": True, "max_model_len": 4096})
    with pytest.raises(ConfigError, match="did you mean 'tensor_parallel_size'"):
        check_engine("vllm", {"tensor_paralel_size": 2})


def test_a_run_without_rollouts_forgets_the_settings_of_its_failed_attempt(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.bind("run", {"policy": "typo/model", "engine": "transformers"})
    run.bind("sampling", {"n": 8})
    run.bind("problems", {"benchmarks": ["mathvista"]})
    run.bind("critics.visualprm", {"model": "typo/critic"})
    run.append([Problem("p1", "mathvista", "testmini", "q")])
    forgotten = forget_unwritten_settings(run, ["demo"])
    assert set(forgotten) == {"run", "sampling", "problems", "critics.visualprm"}
    assert not run.file("problems").exists()  # the old command's problems, from which nothing was made
    run.bind("run", {"policy": "right/model", "engine": "transformers"})  # accepted now
    run.bind("sampling", {"n": 4})
    assert RunDir.open(tmp_path / "run", create=False, write=False).config("sampling") == {"n": 4}  # on disk


def test_a_run_with_rollouts_keeps_its_settings(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.bind("sampling", {"n": 8})
    run.bind("problems", {"benchmarks": ["demo"]})
    run.append([Problem("p1", "demo", "test", "q")])
    run.append([Rollout("p1", 0, "x", "stop", 1, 1, 0.1, "m", "transformers")])
    assert forget_unwritten_settings(run, ["mathvista"]) == []
    assert run.config("sampling") == {"n": 8} and run.file("problems").exists()
