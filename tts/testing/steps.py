"""Make the tiny random policy write steps (search tests and bench/search.py): a logit bias on the token that
ends a paragraph.

The tiny checkpoints have random weights and almost never write a blank line, so a search over them would
be one step deep. :func:`bias_steps` adds ``strength`` to the logits of this tokenizer's ``".\\n\\n"`` token (a
paragraph end) at every decoding step, so solutions have a few steps of a dozen tokens or so, as real chains
of thought do. Everything else (seeds, stop strings, caps) is untouched.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

STEP_END = ".\n\n"


@contextmanager
def bias_steps(engine: Any, strength: float = 3.0, end: float = 0.0):
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
