"""``tts tiny DIR``: the tiny checkpoints, deterministic from a seed, loadable by the real loaders."""

import hashlib

import pytest
from typer.testing import CliRunner

from tts.cli import build_app

pytestmark = pytest.mark.slow


def _digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.safetensors"))}


def test_tts_tiny_builds_the_same_weights_from_the_same_seed(tmp_path):
    runner = CliRunner()
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        result = runner.invoke(build_app(), ["tiny", str(tmp_path / name), "--seed", seed])
        assert result.exit_code == 0, result.output
        assert f"policy: {tmp_path / name / 'policy'}" in result.output
    a, b, c = (_digests(tmp_path / n) for n in "abc")
    assert {"policy/model.safetensors", "critic/model.safetensors"} <= set(a)
    assert a == b  # same seed, same bytes
    assert a["policy/model.safetensors"] != c["policy/model.safetensors"]
    assert a["policy/model.safetensors"] != a["critic/model.safetensors"]

    from tts.critics import load_critic
    from tts.engines import GenerationRequest, SamplingParams, load_engine

    out = load_engine("transformers", str(tmp_path / "a" / "policy")).generate(
        [GenerationRequest("p", "What is 1+1?", (), seed=0)], SamplingParams(n=2, max_new_tokens=4))[0]
    assert len(out) == 2
    assert load_critic("visualprm", str(tmp_path / "a" / "critic")).label == "visualprm"
