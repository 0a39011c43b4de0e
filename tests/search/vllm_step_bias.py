"""A vLLM logits processor for the tests: makes the tiny random text policy write steps (vLLM's version of
:func:`tts.testing.steps.bias_steps`). Loaded by vLLM by name (``LLM(logits_processors=[...])``)."""

from __future__ import annotations

from typing import Any

STEP_BIAS, END_BIAS = 3.0, 1.5


def _build() -> type:
    from transformers import AutoTokenizer
    from vllm.v1.sample.logits_processor import AdapterLogitsProcessor

    class StepBias(AdapterLogitsProcessor):
        def __init__(self, vllm_config: Any, device: Any, is_pin_memory: bool) -> None:
            super().__init__(vllm_config, device, is_pin_memory)
            tok = AutoTokenizer.from_pretrained(vllm_config.model_config.tokenizer)
            (self.step,) = tok.encode(".\n\n", add_special_tokens=False)
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
    if name == "StepBias":
        cls = _build()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
