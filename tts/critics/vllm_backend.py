"""The vLLM side of token-position critics: next-token log-probabilities of two label tokens.

Method. A step score is the softmax over the logits of two label tokens (``+``/``-``) at one position of
the scoring sequence. vLLM returns log-probabilities, not logits, but both labels' log-probabilities share
the same normaliser, so ``softmax(l+, l-)[0] = 1 / (1 + exp(lp- - lp+))`` exactly. What vLLM cannot do
cheaply is return the log-probability of a *chosen* token at an arbitrary *prompt* position:
``prompt_logprobs=k`` gives the prompt token plus the top-k of the whole vocabulary (``-`` is usually not
among them, and k = vocabulary size is prohibitively slow), and ``prompt_logprob_token_ids`` needs the V2
model runner (not available on CPU) and disables reading the prefix cache. So each step becomes one
request whose prompt ends exactly at its score position, generating one token with
``SamplingParams(logprob_token_ids=[+, -], max_tokens=1)``; on older vLLM without that field, two
requests restricted by ``allowed_token_ids`` to one label each, ``logprobs=0`` (the raw, unmasked
log-probability of the forced token).

Cost. The S prompts of a rollout are prefixes of one another and the N rollouts of a problem share the
system prompt, image and question, so with prefix caching (always on here) the work is one pass over the
longest prompt plus, per extra request, the unfinished last cache block. Requests scheduled in the same
engine step cannot reuse each other's blocks, so they go in three waves: the longest prompt of one
rollout per problem (fills the shared prefix and, with images, the encoder cache), then the longest
prompt of every other rollout, then all shorter prefixes (cache hits up to the last full block).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tts.engines.vllm_scheduling import generate_or_abort

Prompt = dict[str, Any]  # a vLLM prompt: {"prompt_token_ids": [...]} or {"prompt": str, "multi_modal_data": ...}


class VLLMLabelScorer:
    """A vLLM engine (prefix caching on) that scores prompts by the next-token odds of two label tokens.

    Args:
        model: hub id or local path.
        dtype: ``auto`` (the checkpoint's, bf16 for the VisualPRM checkpoints), ``bf16``, ``fp32`` …
        max_model_len: context length (default: the model's).
        gpu_memory_utilization: fraction of device memory for weights and KV cache (vLLM's default if None).
        enforce_eager: skip graph capture / compilation (faster start, slower steps).
        method: ``token_ids`` (one request per prefix, ``logprob_token_ids``), ``forced`` (two requests per
            prefix, one label allowed in each) or ``auto`` (the first when this vLLM has it).
        limit_images: most images per prompt (multimodal checkpoints only).
        engine_kwargs: anything else for ``vllm.LLM``.
    """

    def __init__(self, model: str, *, revision: str | None = None, dtype: str = "auto", max_model_len: int | None = None,
                 gpu_memory_utilization: float | None = None, enforce_eager: bool = False, limit_images: int | None = None,
                 trust_remote_code: bool = True, seed: int = 0, method: str = "auto",
                 engine_kwargs: dict[str, Any] | None = None) -> None:
        from vllm import LLM, SamplingParams

        kwargs: dict[str, Any] = {
            "model": model, "revision": revision, "dtype": _vllm_dtype(dtype), "trust_remote_code": trust_remote_code,
            "enable_prefix_caching": True, "enforce_eager": enforce_eager, "seed": seed,
        }
        if max_model_len:
            kwargs["max_model_len"] = int(max_model_len)
        if gpu_memory_utilization is not None:
            kwargs["gpu_memory_utilization"] = float(gpu_memory_utilization)
        if limit_images:
            kwargs["limit_mm_per_prompt"] = {"image": int(limit_images)}
        kwargs.update(engine_kwargs or {})
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = int(self.llm.llm_engine.model_config.max_model_len)
        if method not in ("auto", "token_ids", "forced"):
            raise ValueError(f"method must be auto, token_ids or forced, got {method!r}")
        self.method = ("token_ids" if _supports_token_ids(SamplingParams) else "forced") if method == "auto" else method
        self.stats: Counter = Counter()

    def close(self) -> None:
        """Shut the engine down and free its KV cache (a second engine in the same process needs the memory)."""
        import gc

        llm = getattr(self, "llm", None)
        if llm is None:
            return
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
        self.llm = None
        gc.collect()

    def p_first(self, items: Sequence[tuple[Any, Sequence[Prompt]]], labels: tuple[int, int],
                rounding: str = "none") -> list[list[float]]:
        """For each (group key, prompts), P(first label) as the next token after each prompt (``rounding``: see
        :mod:`tts.critics.numerics`)."""
        first_of_group: set[Any] = set()
        waves: list[list[tuple[int, int]]] = [[], [], []]
        for i, (group, prompts) in enumerate(items):
            if not prompts:
                continue
            last = len(prompts) - 1
            if group not in first_of_group:
                first_of_group.add(group)
                waves[0].append((i, last))
            else:
                waves[1].append((i, last))
            waves[2] += [(i, k) for k in range(last)]
        out: list[list[float]] = [[math.nan] * len(prompts) for _, prompts in items]
        for wave in waves:
            if not wave:
                continue
            scores = self._run([items[i][1][k] for i, k in wave], labels, rounding)
            for (i, k), s in zip(wave, scores):
                out[i][k] = s
        return out

    def _run(self, prompts: list[Prompt], labels: tuple[int, int], rounding: str = "none") -> list[float]:
        from vllm import SamplingParams

        self.stats["generate_calls"] += 1
        if self.method == "token_ids":
            params = SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=list(labels), detokenize=False)
            outputs = generate_or_abort(self.llm, prompts, params)
            self.stats["requests"] += len(prompts)
            return [_p_first(o.outputs[0].logprobs[0], labels, rounding) for o in outputs]
        pair = [SamplingParams(max_tokens=1, temperature=0.0, allowed_token_ids=[t], logprobs=0, detokenize=False)
                for t in labels]
        outputs = generate_or_abort(self.llm, [p for p in prompts for _ in labels],
                                    [pair[j] for _ in prompts for j in range(2)])
        self.stats["requests"] += 2 * len(prompts)
        merged = [{**outputs[2 * i].outputs[0].logprobs[0], **outputs[2 * i + 1].outputs[0].logprobs[0]}
                  for i in range(len(prompts))]
        return [_p_first(m, labels, rounding) for m in merged]


def _p_first(logprobs: dict[int, Any], labels: tuple[int, int], rounding: str = "none") -> float:
    from tts.critics.numerics import p_first_from_logprobs

    try:
        a, b = (float(getattr(logprobs[t], "logprob", logprobs[t])) for t in labels)
    except KeyError as exc:
        raise RuntimeError(f"vLLM returned no log-probability for label token {exc}") from None
    return p_first_from_logprobs(a, b, rounding)


def _supports_token_ids(sampling_params_cls: Any) -> bool:
    try:
        sampling_params_cls(max_tokens=1, logprob_token_ids=[0])
    except TypeError:
        return False
    return True


def _vllm_dtype(dtype: str) -> str:
    return {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}.get(dtype, dtype)
