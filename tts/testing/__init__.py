"""Helpers shared by tests, `tts demo`, benchmarks and notebooks: tiny offline checkpoints."""

from tts.testing.tiny import (
    TinyCheckpoints,
    build_internvl,
    build_remote_internvl,
    build_tiny,
    build_tokenizer,
    tiny_checkpoints,
)

__all__ = [
    "TinyCheckpoints", "build_internvl", "build_remote_internvl", "build_tiny", "build_tokenizer", "tiny_checkpoints",
]
