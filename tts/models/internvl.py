"""Loading transformers-native InternVL checkpoints and running their vision tower once per problem.

Shared by the policy engine and the critic. The point of :func:`embed_with_images` is to compute the image
features of a problem once and reuse the resulting input embeddings for every rollout (N sampled
continuations, or N critic sequences), instead of letting ``generate``/``forward`` re-encode the image per
sequence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


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
        raise ValueError(f"unknown dtype {dtype!r}; use auto, bf16, fp16 or fp32") from None


@dataclass
class LoadedInternVL:
    """A native InternVL model with its processor, ready for inference."""

    model: Any
    processor: Any
    tokenizer: Any
    device: str
    model_id: str
    revision: str | None

    @property
    def image_token_id(self) -> int:
        return int(self.model.config.image_token_id)

    def info(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "revision": self.revision,
            "architecture": type(self.model).__name__,
            "dtype": str(self.model.dtype).replace("torch.", ""),
            "device": self.device,
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }


def load_native(model_id: str, *, device: str | None = None, dtype: str = "auto", revision: str | None = None,
                device_map: str | None = None) -> LoadedInternVL:
    """Load a transformers-native InternVL checkpoint (hub id such as ``OpenGVLab/InternVL3-8B-hf`` or a path)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our stages show rich progress; hide per-shard loading bars
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    processor = AutoProcessor.from_pretrained(model_id, revision=revision)
    if not hasattr(processor, "image_processor"):
        raise ValueError(
            f"{model_id}: AutoProcessor returned {type(processor).__name__}, not an image-text processor. "
            "InternVL's processor needs torchvision installed (see README: install)."
        )
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "revision": revision}
    if device_map:
        kwargs["device_map"] = device_map
    model = AutoModelForImageTextToText.from_pretrained(model_id, **kwargs).eval()
    if not device_map:
        model = model.to(device)
    commit = getattr(model.config, "_commit_hash", None)
    return LoadedInternVL(model, processor, processor.tokenizer, device, model_id, revision or commit)


def image_features(model: Any, pixel_values: Any):
    """Run the vision tower + projector; returns (num_tiles, tokens_per_tile, hidden)."""
    cfg = model.config
    out = model.model.get_image_features(
        pixel_values=pixel_values,
        vision_feature_layer=cfg.vision_feature_layer,
        vision_feature_select_strategy=cfg.vision_feature_select_strategy,
    )
    # transformers 5 returns a model output whose pooler_output holds the projected features.
    return getattr(out, "pooler_output", out)


def embed_with_images(loaded: LoadedInternVL, input_ids: Any, pixel_values: Any | None):
    """Input embeddings of ``input_ids`` (1, L) with image features scattered into the image-token slots."""
    import torch

    model = loaded.model
    with torch.no_grad():
        embeds = model.get_input_embeddings()(input_ids)
        if pixel_values is None:
            return embeds
        feats = image_features(model, pixel_values.to(loaded.device)).to(embeds.dtype)
        mask = input_ids == loaded.image_token_id
        n_slots, n_feats = int(mask.sum()), feats.shape[0] * feats.shape[1]
        if n_slots != n_feats:
            raise ValueError(f"prompt has {n_slots} image-token slots but the images give {n_feats} features")
        return embeds.masked_scatter(mask.unsqueeze(-1).expand_as(embeds), feats.reshape(-1, feats.shape[-1]))
