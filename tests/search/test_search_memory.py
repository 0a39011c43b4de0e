"""Both models on one GPU: the documented ``gpu_memory_utilization`` split (:func:`tts.search.pipeline.memory_split`),
checked here without vLLM (the vLLM search test loads both engines with it)."""

from __future__ import annotations

import pytest

from tts.errors import ConfigError
from tts.search.pipeline import BOTH_VLLM_SHARES, VLLM_POLICY_SHARE, memory_split


@pytest.mark.parametrize(("engine", "critic", "policy_share", "critic_share", "notes"), [
    ("vllm", {"backend": "vllm"}, BOTH_VLLM_SHARES[0], BOTH_VLLM_SHARES[1], 2),  # 0.45 + 0.45 for 8B + 8B on 80 GB
    ("vllm", {}, VLLM_POLICY_SHARE, None, 1),  # a transformers critic takes the rest (search-and-learn's 0.5)
    ("transformers", {"backend": "vllm"}, None, None, 0),  # a lone vLLM critic keeps its own default
    ("openai", {}, None, None, 0),  # the policy on a server: nothing to split on this GPU
])
def test_the_split_fills_only_what_the_recipe_left_out(engine, critic, policy_share, critic_share, notes):
    engine_options, critic_options = {}, dict(critic)
    lines = memory_split(engine, engine_options, critic_options)
    assert engine_options.get("gpu_memory_utilization") == policy_share
    assert critic_options.get("gpu_memory_utilization") == critic_share
    assert len(lines) == notes


def test_given_shares_are_kept_and_an_overcommitted_gpu_is_refused():
    engine_options, critic_options = {"gpu_memory_utilization": 0.5}, {"backend": "vllm"}
    assert len(memory_split("vllm", engine_options, critic_options)) == 1  # only the critic's was filled in
    assert engine_options["gpu_memory_utilization"] == 0.5 and critic_options["gpu_memory_utilization"] == 0.45
    with pytest.raises(ConfigError, match="add up to 1.05 of one GPU"):
        memory_split("vllm", {"gpu_memory_utilization": 0.6}, {"backend": "vllm", "gpu_memory_utilization": 0.45})
    assert BOTH_VLLM_SHARES == (0.45, 0.45) and VLLM_POLICY_SHARE == 0.5  # the values the docstring documents
