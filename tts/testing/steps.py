"""Make the tiny random policy write steps (search tests and bench/search.py): a logit bias on the token that
ends a paragraph.

The tiny checkpoints have random weights and almost never write a blank line, so a search over them would
be one step deep. :func:`bias_steps` adds ``strength`` to the logits of this tokenizer's ``".\\n\\n"`` token (a
paragraph end) at every decoding step, so solutions have a few steps of a dozen tokens or so, as real chains
of thought do. Everything else (seeds, stop strings, caps) is untouched.

:data:`VLLM_STEP_BIAS` is the same bias for a vLLM engine on the tiny text-only checkpoint (a logits
processor loaded by name: ``load_engine("vllm", path, logits_processors=[..., VLLM_STEP_BIAS])``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

STEP_END = ".\n\n"
STEP_BIAS, END_BIAS = 3.0, 1.5
VLLM_STEP_BIAS = "tts.testing.steps:StepBias"


@contextmanager
def bias_steps(engine: Any, strength: float = STEP_BIAS, end: float = 0.0):
    """Within the block, ``strength`` is added to the paragraph-end token's logit and ``end`` to the end of
    turn's (``<|im_end|>``: some solutions then end by themselves)."""
    tok = engine.vlm.tokenizer
    (token,) = tok.encode(STEP_END, add_special_tokens=False)
    eos = tok.convert_tokens_to_ids("<|im_end|>")

    def hook(module: Any, args: Any, output: Any) -> Any:
        output = output.clone()
        output[..., token] += strength
        output[..., eos] += end
        return output

    handle = engine.vlm.language_model.get_output_embeddings().register_forward_hook(hook)
    try:
        yield token
    finally:
        handle.remove()


def _build_vllm_bias() -> type:
    from transformers import AutoTokenizer
    from vllm.v1.sample.logits_processor import AdapterLogitsProcessor

    class StepBias(AdapterLogitsProcessor):
        """Adds :data:`STEP_BIAS` to the paragraph-end token and :data:`END_BIAS` to ``<|im_end|>``."""

        def __init__(self, vllm_config: Any, device: Any, is_pin_memory: bool) -> None:
            super().__init__(vllm_config, device, is_pin_memory)
            tok = AutoTokenizer.from_pretrained(vllm_config.model_config.tokenizer)
            (self.step,) = tok.encode(STEP_END, add_special_tokens=False)
            self.end = tok.convert_tokens_to_ids("<|im_end|>")

        def is_argmax_invariant(self) -> bool:
            return False

        def new_req_logits_processor(self, params: Any) -> Any:
            step, end = self.step, self.end

            def bias(output_ids: list[int], logits: Any) -> Any:
                logits[step] += STEP_BIAS
                logits[end] += END_BIAS
                return logits

            return bias

    StepBias.__module__ = __name__
    StepBias.__qualname__ = "StepBias"
    return StepBias


def __getattr__(name: str) -> Any:
    if name == "StepBias":  # built on first access: importing this module needs no vLLM
        cls = _build_vllm_bias()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
