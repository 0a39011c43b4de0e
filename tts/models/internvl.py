"""InternVL checkpoints behind one small adapter, for both checkpoint styles.

* **native** — transformers' own InternVL classes (``OpenGVLab/InternVL3-8B-hf``):
  ``AutoModelForImageTextToText`` + ``AutoProcessor`` (its image processor does the tiling).
* **remote** — the original checkpoints (``OpenGVLab/InternVL3-8B``, ``OpenGVLab/VisualPRM-8B``) loaded with
  ``trust_remote_code``: the model exposes ``extract_feature`` and ``language_model``; tiling is InternVL's
  dynamic 448-px procedure (:mod:`tts.models.tiling`).

Both styles are prompted the same way, as the reference ``model.chat`` does: the InternVL2.5 ChatML
template rendered as text, each ``<image>`` placeholder replaced by ``<img>`` + ``<IMG_CONTEXT>`` ×
(tokens per tile × tiles) + ``</img>``. The engine and the critic only talk to :class:`InternVLAdapter`,
whose point is to run the vision tower once per problem (:meth:`features`) and reuse the features for every
sequence of that problem (:meth:`embed`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from tts.errors import ConfigError
from tts.prompts import IMAGE_PLACEHOLDER

log = logging.getLogger(__name__)

IMG_START, IMG_END, IMG_CONTEXT = "<img>", "</img>", "<IMG_CONTEXT>"
CHATML_TEMPLATES = ("internvl2_5",)
"""Conversation templates rendered exactly (InternVL2.5, InternVL3, InternVL3.5, VisualPRM). Others differ:
``Hermes-2``/``internlm2-chat`` end turns with ``<|im_end|>`` and no newline, ``internvl_zh`` is not ChatML."""


def pick_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str, device: str):
    """``auto`` means bf16 on GPU and fp32 on CPU (CPU bf16 matmuls are slow and less exact)."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16,
                "fp32": torch.float32, "float32": torch.float32}[dtype]
    except KeyError:
        raise ConfigError(f"unknown dtype {dtype!r}; use auto, bf16, fp16 or fp32") from None


def chatml(system: str | None, user: str, assistant_prefix: str = "") -> str:
    """One user turn in InternVL2.5's ChatML template, ending where the assistant reply starts.

    The system turn is always written, even for ``system=""`` (``<|im_start|>system\n<|im_end|>\n``), as
    InternVL's ``Conversation.get_prompt`` (MPT style) writes ``system_template + sep`` unconditionally;
    only ``None`` (for callers outside InternVL's template) leaves it out.
    """
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system is not None else ""
    return f"{head}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{assistant_prefix}"


def image_block(tiles: int, tokens_per_tile: int) -> str:
    """The image-token block of one image of ``tiles`` tiles: ``<img>``, one ``<IMG_CONTEXT>`` per visual token,
    ``</img>`` (InternVL's ``model.chat``)."""
    return f"{IMG_START}{IMG_CONTEXT * (tokens_per_tile * tiles)}{IMG_END}"


def expand_images(text: str, tiles: Sequence[int], tokens_per_tile: int) -> str:
    """Replace each ``<image>`` placeholder of ``text``, in order, by the image-token block of its image.

    Example:
        >>> expand_images("<image>\\nWhat is x?", [2], tokens_per_tile=1)
        '<img><IMG_CONTEXT><IMG_CONTEXT></img>\\nWhat is x?'
    """
    pieces = text.split(IMAGE_PLACEHOLDER)
    if len(pieces) - 1 != len(tiles):
        raise ValueError(f"{len(pieces) - 1} <image> placeholders for {len(tiles)} images")
    out = [pieces[0]]
    for n, piece in zip(tiles, pieces[1:]):
        out += [image_block(int(n), tokens_per_tile), piece]
    return "".join(out)


class InternVLAdapter(ABC):
    """A loaded InternVL model with what the engine and the critic need, independent of checkpoint style."""

    style: str = ""

    def __init__(self, model: Any, tokenizer: Any, *, device: str, model_id: str, revision: str | None,
                 tokens_per_tile: int, default_max_tiles: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.model_id = model_id
        self.revision = revision
        self.tokens_per_tile = tokens_per_tile
        self.default_max_tiles = default_max_tiles
        self.image_token_id = int(tokenizer.convert_tokens_to_ids(IMG_CONTEXT))

    # ------------------------------------------------------------------ checkpoint-specific
    @abstractmethod
    def pixel_values(self, images: Sequence[Any], max_tiles: int | None) -> tuple[Any, list[int]]:
        """Tiles of every image, concatenated, and the tile count per image."""

    @abstractmethod
    def features(self, pixel_values: Any) -> Any:
        """Vision tower + projector: (tiles, tokens_per_tile, hidden)."""

    @property
    @abstractmethod
    def language_model(self) -> Any:
        """The causal LM (with ``generate``, ``get_input_embeddings``, ``get_output_embeddings``)."""

    @abstractmethod
    def backbone_hidden(self, inputs_embeds: Any, attention_mask: Any) -> Any:
        """Final hidden states of the LM body (before the LM head)."""

    @property
    def config_system_message(self) -> str | None:
        return getattr(self.model.config, "system_message", None) or None

    # ------------------------------------------------------------------ shared
    def image_block(self, tiles: int) -> str:
        return image_block(tiles, self.tokens_per_tile)

    def expand_images(self, text: str, tiles: Sequence[int]) -> str:
        """Replace each ``<image>`` placeholder, in order, by its image-token block."""
        return expand_images(text, tiles, self.tokens_per_tile)

    def encode(self, text: str) -> list[int]:
        """Ids of a whole rendered prompt, with the tokenizer's own special tokens as ``model.chat``, the -hf
        processor and vLLM tokenize it (a BOS for InternLM-based checkpoints, nothing for Qwen2-based ones)."""
        return self.tokenizer.encode(text, add_special_tokens=True)

    def embed(self, input_ids: Any, features: Any | None) -> Any:
        """Token embeddings of (B, L) ids with the same image features scattered into every row's image slots."""
        import torch

        with torch.no_grad():
            embeds = self.language_model.get_input_embeddings()(input_ids)
            if features is None:
                return embeds
            flat = features.reshape(-1, features.shape[-1]).to(embeds.dtype)
            mask = input_ids == self.image_token_id
            per_row = mask.sum(dim=1)
            if bool((per_row != flat.shape[0]).any()):
                raise ValueError(f"rows have {per_row.tolist()} image-token slots for {flat.shape[0]} image features")
            return embeds.masked_scatter(mask.unsqueeze(-1).expand_as(embeds), flat.repeat(input_ids.shape[0], 1))

    def embed_rows(self, input_ids: Any, row_features: Sequence[Any | None]) -> Any:
        """Token embeddings of (B, L) ids with each row's own image features scattered into its image slots.

        Rows of different problems can share one forward pass this way; ``None`` marks a text-only row.
        Rows of the same problem pass the same features object, which is never copied per row on the GPU
        beyond the embedding tensor itself.
        """
        import torch

        with torch.no_grad():
            embeds = self.language_model.get_input_embeddings()(input_ids)
            mask = input_ids == self.image_token_id
            per_row = mask.sum(dim=1).tolist()
            flat = []
            for i, (n, feats) in enumerate(zip(per_row, row_features)):
                have = 0 if feats is None else feats.shape[0] * feats.shape[1]
                if n != have:
                    raise ValueError(f"row {i} has {n} image-token slots for {have} image features")
                if feats is not None:
                    flat.append(feats.reshape(-1, feats.shape[-1]).to(embeds.dtype))
            if not flat:
                return embeds
            embeds[mask] = torch.cat(flat)  # row-major slot order = rows' features in order
            return embeds

    @property
    def max_length(self) -> int | None:
        """The language model's context length (``max_position_embeddings``), when the config states it."""
        cfg = getattr(self.language_model, "config", None)
        if cfg is not None and hasattr(cfg, "get_text_config"):
            cfg = cfg.get_text_config()
        n = getattr(cfg, "max_position_embeddings", None)
        return int(n) if n else None

    def info(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "revision": self.revision,
            "checkpoint_style": self.style,
            "architecture": type(self.model).__name__,
            "dtype": str(self.model.dtype).replace("torch.", ""),
            "device": self.device,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "tokens_per_tile": self.tokens_per_tile,
            "default_max_tiles": self.default_max_tiles,
        }


class NativeInternVL(InternVLAdapter):
    style = "native"

    def __init__(self, model: Any, processor: Any, **kw: Any) -> None:
        super().__init__(model, processor.tokenizer, tokens_per_tile=int(processor.image_seq_length),
                         default_max_tiles=int(getattr(processor.image_processor, "max_patches", 12)), **kw)
        self.processor = processor

    def pixel_values(self, images: Sequence[Any], max_tiles: int | None) -> tuple[Any, list[int]]:
        kwargs = {"max_patches": max_tiles} if max_tiles else {}
        out = self.processor.image_processor(list(images), return_tensors="pt", **kwargs)
        return out["pixel_values"], [int(n) for n in out["num_patches"]]

    def features(self, pixel_values: Any) -> Any:
        cfg = self.model.config
        out = self.model.model.get_image_features(
            pixel_values=pixel_values.to(self.device),
            vision_feature_layer=cfg.vision_feature_layer,
            vision_feature_select_strategy=cfg.vision_feature_select_strategy,
        )
        return getattr(out, "pooler_output", out)  # transformers 5 wraps the projected features

    @property
    def language_model(self) -> Any:
        return self.model

    def backbone_hidden(self, inputs_embeds: Any, attention_mask: Any) -> Any:
        return self.model.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state


class RemoteInternVL(InternVLAdapter):
    style = "remote"

    def __init__(self, model: Any, tokenizer: Any, **kw: Any) -> None:
        cfg = model.config
        template = getattr(cfg, "template", "internvl2_5")
        if template not in CHATML_TEMPLATES:
            raise ValueError(f"{kw.get('model_id')}: conversation template {template!r} is not supported; ttscale "
                             f"renders {', '.join(CHATML_TEMPLATES)} exactly and would prompt this model wrongly")
        super().__init__(model, tokenizer, tokens_per_tile=int(model.num_image_token),
                         default_max_tiles=int(getattr(cfg, "max_dynamic_patch", 12)), **kw)
        model.img_context_token_id = self.image_token_id  # model.chat() sets this before generating
        self.image_size = int(getattr(cfg, "force_image_size", None) or cfg.vision_config.image_size)
        self.min_tiles = int(getattr(cfg, "min_dynamic_patch", 1))
        self.use_thumbnail = bool(getattr(cfg, "use_thumbnail", True))
        self.dynamic = bool(getattr(cfg, "dynamic_image_size", True))

    def pixel_values(self, images: Sequence[Any], max_tiles: int | None) -> tuple[Any, list[int]]:
        from tts.models.tiling import preprocess

        return preprocess(list(images), image_size=self.image_size, max_num=max_tiles or self.default_max_tiles,
                          min_num=self.min_tiles, use_thumbnail=self.use_thumbnail, dynamic=self.dynamic)

    def features(self, pixel_values: Any) -> Any:
        return self.model.extract_feature(pixel_values.to(self.device, self.model.dtype))

    @property
    def language_model(self) -> Any:
        return self.model.language_model

    def backbone_hidden(self, inputs_embeds: Any, attention_mask: Any) -> Any:
        body = self.model.language_model.model
        return body(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state


def checkpoint_style(model_id: str, revision: str | None = None) -> str:
    """``remote`` for original InternVL-Chat checkpoints (``internvl_chat`` with auto_map), else ``native``."""
    from transformers import PretrainedConfig

    config, _ = PretrainedConfig.get_config_dict(model_id, revision=revision)
    if config.get("model_type") == "internvl_chat" or "AutoModel" in (config.get("auto_map") or {}):
        return "remote"
    return "native"


def load_internvl(model_id: str, *, device: str | None = None, dtype: str = "auto", revision: str | None = None,
                  device_map: str | None = None, style: str = "auto") -> InternVLAdapter:
    """Load an InternVL checkpoint (hub id or path) of either style; ``style="auto"`` reads its config."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our stages show rich progress; hide per-shard loading bars
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    style = checkpoint_style(model_id, revision) if style == "auto" else style
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "revision": revision}
    if device_map:
        kwargs["device_map"] = device_map
    if style == "remote":
        from transformers import AutoTokenizer

        from tts.models.remote_code import load_remote_model

        tokenizer = AutoTokenizer.from_pretrained(model_id, revision=revision, trust_remote_code=True, use_fast=False)
        model = load_remote_model(model_id, low_cpu_mem_usage=True, **kwargs).eval()
        adapter_cls: type[RemoteInternVL | NativeInternVL] = RemoteInternVL
        extra: dict[str, Any] = {"tokenizer": tokenizer}
    elif style == "native":
        from transformers import AutoModelForImageTextToText, AutoProcessor

        processor = AutoProcessor.from_pretrained(model_id, revision=revision)
        if not hasattr(processor, "image_processor"):
            raise ValueError(f"{model_id}: AutoProcessor returned {type(processor).__name__}, not an image-text "
                             "processor; InternVL's processor needs torchvision installed (see README)")
        model = AutoModelForImageTextToText.from_pretrained(model_id, **kwargs).eval()
        adapter_cls, extra = NativeInternVL, {"processor": processor}
    else:
        raise ConfigError(f"unknown checkpoint style {style!r}; use auto, native or remote")
    if not device_map:
        model = model.to(device)
    commit = getattr(model.config, "_commit_hash", None)
    return adapter_cls(model, device=device, model_id=model_id, revision=revision or commit, **extra)
