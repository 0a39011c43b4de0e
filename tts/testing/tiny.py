"""Tiny, randomly initialised checkpoints of the real architectures, built locally in seconds.

Why: model weights cannot be downloaded on the development and CI machines, yet every code path that
loads a hub id must run for real. These checkpoints use transformers' native InternVL classes (a 2-layer
vision tower, a 2-layer Qwen2 text model), a byte-level BPE tokenizer trained here with InternVL's
special tokens and chat template, and the real ``InternVLProcessor``. They are saved with
``save_pretrained`` and loaded back through exactly the code that loads ``OpenGVLab/...`` ids. Their
outputs are random text, so any accuracy measured with them is meaningless.

Example:
    >>> ckpts = tiny_checkpoints()          # doctest: +SKIP
    >>> ckpts.policy, ckpts.critic          # doctest: +SKIP
    (PosixPath('.../policy'), PosixPath('.../critic'))
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bump when the recipe changes so stale caches are rebuilt (3: the remote-code variants without post_init).
TINY_VERSION = 3

IMAGE_TOKENS = {
    "start_image_token": "<img>",
    "end_image_token": "</img>",
    "context_image_token": "<IMG_CONTEXT>",
    "video_token": "<video>",
}
CHATML_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
INTERNVL_TOKENS = ("<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>", "<ref>", "</ref>", "<box>", "</box>", "<video>")

# The chat template of transformers-native InternVL checkpoints (ChatML; an image item renders as
# "<IMG_CONTEXT>\n", which the processor expands to <img><IMG_CONTEXT>×k</img>).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ '<IMG_CONTEXT>\\n' }}"
    "{% elif part['type'] == 'video' %}{{ '<video>\\n' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Qwen2's pre-tokenizer split pattern.
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

_CORPUS = [
    "Let's think step by step.",
    "First, we look at the figure.\n\nThe triangle has sides 3, 4 and 5.",
    "The area is \\frac{1}{2} \\times 3 \\times 4 = 6.",
    "Therefore the perimeter is 12 cm.",
    "Answer: \\boxed{6}",
    "Answer: \\boxed{B}",
    "The answer is (C).",
    "So x = 2 and y = -1, hence x + y = 1.",
    "The angle is 45^\\circ, and \\sqrt{2} \\approx 1.414.",
    "There are 7 blue cubes and 3 red spheres in the image.",
    "### Question:\n### Solution Process:\n",
    "+", "-", "0123456789", "ABCDE", "().,:;?!{}[]^_$%=<>/\\*|'\"",
]


@dataclass(frozen=True)
class TinyCheckpoints:
    """Transformers-native policy and critic, plus the same pair in the original remote-code layout, twice:
    with a model class that calls ``post_init()`` and with one that does not (as the hub's InternVL3,
    InternVL3.5 and VisualPRM files; transformers 5 cannot load those without help)."""

    policy: Path
    critic: Path
    policy_remote: Path
    critic_remote: Path
    policy_no_post_init: Path
    critic_no_post_init: Path


def _corpus() -> list[str]:
    from tts.prompts import prompts_dir

    texts = list(_CORPUS)
    for p in sorted(prompts_dir().glob("*.txt")):
        texts.append(p.read_text(encoding="utf-8"))
    return texts * 4


def corpus_key(texts: list[str]) -> str:
    """A short hash of a tokenizer's training texts, part of the cache keys: the tiny tokenizers learn from
    every ``prompts/*.txt``, so adding or editing a prompt file changes the checkpoints and must not hit a
    stale cache."""
    import hashlib

    return hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()[:8]


def build_tokenizer(vocab_size: int = 1024):
    """A byte-level BPE tokenizer (Qwen2 pre-tokenization) with InternVL's and ChatML's special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast  # type: ignore[attr-defined]  # lazily exported

    raw = Tokenizer(models.BPE())
    raw.normalizer = normalizers.NFC()  # as Qwen2's tokenizer
    raw.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN2_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    raw.train_from_iterator(_corpus(), trainer)
    # Wrapping the trained tokenizer object works on every supported transformers (4.57's Qwen2Tokenizer is
    # the file-based slow one; 5.x's takes vocab/merges); both give the same vocabulary and ids.
    tok = Qwen2TokenizerFast(
        tokenizer_object=raw,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=dict(IMAGE_TOKENS),
    )
    tok.add_special_tokens({"additional_special_tokens": list(CHATML_TOKENS + INTERNVL_TOKENS)})
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = 8192
    return tok


def _internvl_config(tokenizer, *, hidden: int, layers: int, heads: int, kv_heads: int, image_size: int,
                     vision_hidden: int = 32, tie_embeddings: bool = True):
    from transformers import InternVLConfig, InternVLVisionConfig, Qwen2Config

    vision = InternVLVisionConfig(
        hidden_size=vision_hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=vision_hidden * 2,
        image_size=[image_size, image_size],
        patch_size=[14, 14],
        use_absolute_position_embeddings=True,
    )
    text = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=8192,
        tie_word_embeddings=tie_embeddings,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    patches = (image_size // 14) ** 2
    untie: dict[str, Any] = {} if tie_embeddings else {"tie_word_embeddings": False}
    return InternVLConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
        image_seq_length=int(patches * 0.25),
        downsample_ratio=0.5,
        **untie,
    )


def build_internvl(
    directory: str | os.PathLike[str],
    *,
    seed: int = 0,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    image_size: int = 56,
    max_tiles: int = 6,
    tokenizer=None,
    vision_hidden: int = 32,
    lm_head_scale: float | None = None,
) -> Path:
    """Build one tiny ``InternVLForConditionalGeneration`` checkpoint with its processor into ``directory``.

    ``vision_hidden`` sets the vision tower's width (2 heads). ``lm_head_scale`` unties the LM head from the
    token embeddings and multiplies it, which makes the random model's next-token logits peaked, so that
    greedy decoding is not decided by rounding noise (where two numerical paths must agree on greedy
    outputs); an untied head also keeps a random model from merely repeating its input token.
    """
    import torch
    from transformers import (
        GenerationConfig,
        GotOcr2ImageProcessor,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    directory = Path(directory)
    tok = tokenizer if tokenizer is not None else build_tokenizer()
    config = _internvl_config(tok, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, image_size=image_size,
                              vision_hidden=vision_hidden, tie_embeddings=lm_head_scale is None)
    torch.manual_seed(seed)
    model = InternVLForConditionalGeneration(config).eval()
    if lm_head_scale is not None:
        with torch.no_grad():
            model.get_output_embeddings().weight.mul_(lm_head_scale)
    model.generation_config = GenerationConfig(
        eos_token_id=config.text_config.eos_token_id, pad_token_id=config.text_config.pad_token_id
    )
    image_processor = GotOcr2ImageProcessor(
        size={"height": image_size, "width": image_size},
        crop_to_patches=True,
        min_patches=1,
        max_patches=max_tiles,
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        do_convert_rgb=True,
    )
    video_processor = InternVLVideoProcessor(size={"height": image_size, "width": image_size})
    processor = InternVLProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        video_processor=video_processor,
        image_seq_length=config.image_seq_length,
        chat_template=CHAT_TEMPLATE,
    )
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def build_remote_internvl(
    directory: str | os.PathLike[str], *, seed: int = 0, hidden: int = 64, layers: int = 2, heads: int = 4,
    kv_heads: int = 2, image_size: int = 56, max_tiles: int = 6, tokenizer=None,
    weights_from: str | os.PathLike[str] | None = None,
) -> Path:
    """Build a tiny checkpoint in the original InternVL-Chat remote-code layout (``trust_remote_code``).

    With ``weights_from`` (a native checkpoint built with the same sizes) the weights are copied over, so
    both styles compute the same function and can be checked against each other.
    """
    import torch
    from transformers.utils import logging as hf_logging

    from tts.testing.remote_code.configuration_tiny_internvl_chat import TinyInternVLChatConfig
    from tts.testing.remote_code.modeling_tiny_internvl_chat import TinyInternVLChatModel

    hf_logging.disable_progress_bar()
    directory = Path(directory)
    tok = tokenizer if tokenizer is not None else build_tokenizer()
    native = _internvl_config(tok, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, image_size=image_size)
    config = TinyInternVLChatConfig(
        vision_config=native.vision_config.to_dict(), llm_config=native.text_config.to_dict(),
        force_image_size=image_size, downsample_ratio=0.5, template="internvl2_5", max_dynamic_patch=max_tiles,
        architectures=["TinyInternVLChatModel"],
    )
    TinyInternVLChatConfig.register_for_auto_class("AutoConfig")
    TinyInternVLChatModel.register_for_auto_class("AutoModel")
    torch.manual_seed(seed)
    model = TinyInternVLChatModel(config).eval()
    if weights_from is not None:
        model.load_state_dict(_native_to_remote(weights_from), strict=True)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


_NATIVE_TO_REMOTE = (
    ("model.vision_tower.", "vision_model."),
    ("model.multi_modal_projector.layer_norm.", "mlp1.0."),
    ("model.multi_modal_projector.linear_1.", "mlp1.1."),
    ("model.multi_modal_projector.linear_2.", "mlp1.3."),
    ("model.language_model.", "language_model.model."),
    ("lm_head.", "language_model.lm_head."),
)


def _native_to_remote(native_dir: str | os.PathLike[str]) -> dict:
    from transformers import InternVLForConditionalGeneration

    native = InternVLForConditionalGeneration.from_pretrained(native_dir)
    out = {}
    for key, value in native.state_dict().items():
        for old, new in _NATIVE_TO_REMOTE:
            if key.startswith(old):
                out[new + key[len(old):]] = value
                break
        else:
            raise KeyError(f"no remote-code name for native weight {key}")
    return out


NO_POST_INIT_CLASS = "TinyInternVLChatModelWithoutPostInit"


def without_post_init(remote_dir: str | os.PathLike[str], directory: str | os.PathLike[str]) -> Path:
    """A copy of a tiny remote-code checkpoint whose ``auto_map`` names the model class that never calls
    ``post_init()`` (same files, same weights: only the class that ``AutoModel`` builds differs)."""
    import shutil

    directory = Path(directory)
    shutil.copytree(remote_dir, directory)
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    module = config["auto_map"]["AutoModel"].rsplit(".", 1)[0]
    config["auto_map"]["AutoModel"] = f"{module}.{NO_POST_INIT_CLASS}"
    config["architectures"] = [NO_POST_INIT_CLASS]
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return directory


def build_tiny(directory: str | os.PathLike[str], seed: int = 0) -> TinyCheckpoints:
    """Build the tiny policy and critic (native under ``policy``/``critic``; the same weights in the
    remote-code layout under ``policy-remote``/``critic-remote``, and again with a model class that skips
    ``post_init()`` under ``policy-remote-no-post-init``/``critic-remote-no-post-init``)."""
    directory = Path(directory)
    tok = build_tokenizer()
    policy_remote = build_remote_internvl(directory / "policy-remote", tokenizer=tok,
                                          weights_from=build_internvl(directory / "policy", seed=seed, tokenizer=tok))
    critic_remote = build_remote_internvl(directory / "critic-remote", tokenizer=tok,
                                          weights_from=build_internvl(directory / "critic", seed=seed + 1, tokenizer=tok))
    out = TinyCheckpoints(
        policy=directory / "policy",
        critic=directory / "critic",
        policy_remote=policy_remote,
        critic_remote=critic_remote,
        policy_no_post_init=without_post_init(policy_remote, directory / "policy-remote-no-post-init"),
        critic_no_post_init=without_post_init(critic_remote, directory / "critic-remote-no-post-init"),
    )
    (directory / "TINY.json").write_text(json.dumps({"version": TINY_VERSION, "seed": seed}) + "\n")
    return out


def tiny_checkpoints(cache_dir: str | os.PathLike[str] | None = None, seed: int = 0) -> TinyCheckpoints:
    """The tiny checkpoints, built once per cache directory (atomically, so parallel callers are safe)."""
    import transformers

    from tts.testing.cache import cached_build

    target = cached_build(f"tiny-v{TINY_VERSION}-s{seed}-tf{transformers.__version__}-c{corpus_key(_corpus())}",
                          lambda d: build_tiny(d, seed=seed), cache_dir)
    return TinyCheckpoints(policy=target / "policy", critic=target / "critic",
                           policy_remote=target / "policy-remote", critic_remote=target / "critic-remote",
                           policy_no_post_init=target / "policy-remote-no-post-init",
                           critic_no_post_init=target / "critic-remote-no-post-init")
