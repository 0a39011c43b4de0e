"""What a checkpoint's config says about its prompt layout, without loading the model.

Why: a backend that does not load the model through transformers (vLLM) still has to know how many
image tokens each image becomes (to keep a scoring sequence inside the context and to render the same
token sequence as the transformers path), the config's system message and the context length. Tile
counts come from :mod:`tts.models.tiling` — the same grid rule as the remote-code checkpoints, transformers'
``GotOcr2ImageProcessor`` and vLLM's InternVL processors.

Example:
    >>> layout = ModelLayout.from_pretrained("/path/to/VisualPRM-8B")   # doctest: +SKIP
    >>> layout.tiles(image, max_tiles=6), layout.tokens_per_tile         # doctest: +SKIP
    (7, 256)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _json_file(model_id: str, name: str, revision: str | None) -> dict[str, Any] | None:
    from transformers.utils import cached_file

    path = cached_file(model_id, name, revision=revision, _raise_exceptions_for_missing_entries=False)
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@dataclass(frozen=True)
class ModelLayout:
    """Prompt-relevant facts of a checkpoint: ``style`` is ``remote``, ``native`` or ``text`` (no vision)."""

    style: str
    architecture: str
    max_length: int | None
    system_message: str | None = None
    tokens_per_tile: int = 0
    image_size: int = 448
    min_tiles: int = 1
    max_tiles: int = 12
    use_thumbnail: bool = True
    dynamic: bool = True
    commit: str | None = None  # the hub commit the config came from (None for a local directory)

    @property
    def has_vision(self) -> bool:
        return self.style != "text"

    @property
    def image_token(self) -> str:
        """The image placeholder vLLM's processor expands: ``<image>`` (remote code) or ``<IMG_CONTEXT>`` (native)."""
        return "<image>" if self.style == "remote" else "<IMG_CONTEXT>"

    def tiles(self, image: Any, max_tiles: int | None = None) -> int:
        """How many tiles (thumbnail included) the checkpoint's preprocessing cuts ``image`` into."""
        from tts.models.tiling import candidate_grids, closest_grid

        if not self.dynamic:
            return 1
        width, height = image.size
        grid = closest_grid(width, height, candidate_grids(self.min_tiles, max_tiles or self.max_tiles), self.image_size)
        n = grid[0] * grid[1]
        return n + 1 if self.use_thumbnail and n != 1 else n

    def mm_processor_kwargs(self, max_tiles: int | None) -> dict[str, int]:
        """vLLM's per-request tiling cap: ``max_dynamic_patch`` (remote code) or ``max_patches`` (native)."""
        if not max_tiles or not self.has_vision:
            return {}
        return {"max_dynamic_patch": max_tiles} if self.style == "remote" else {"max_patches": max_tiles}

    @classmethod
    def from_pretrained(cls, model_id: str, revision: str | None = None) -> ModelLayout:
        import dataclasses

        from transformers import PretrainedConfig

        config, _ = PretrainedConfig.get_config_dict(model_id, revision=revision)
        return dataclasses.replace(cls._from_config(model_id, revision, config), commit=config.get("_commit_hash"))

    @classmethod
    def _from_config(cls, model_id: str, revision: str | None, config: dict[str, Any]) -> ModelLayout:
        arch = (config.get("architectures") or ["?"])[0]
        if config.get("model_type") == "internvl_chat" or "AutoModel" in (config.get("auto_map") or {}):
            vision = config.get("vision_config") or {}
            llm = config.get("llm_config") or {}
            size = int(config.get("force_image_size") or _first(vision.get("image_size", 448)))
            patch = _first(vision.get("patch_size", 14))
            ratio = float(config.get("downsample_ratio", 0.5))
            return cls("remote", arch, llm.get("max_position_embeddings"), config.get("system_message") or None,
                       tokens_per_tile=int((size // patch) ** 2 * ratio**2), image_size=size,
                       min_tiles=int(config.get("min_dynamic_patch", 1)), max_tiles=int(config.get("max_dynamic_patch", 12)),
                       use_thumbnail=bool(config.get("use_thumbnail", True)),
                       dynamic=bool(config.get("dynamic_image_size", True)))
        if "vision_config" in config:
            vision = config["vision_config"]
            text = config.get("text_config") or {}
            proc = _json_file(model_id, "processor_config.json", revision) or {}
            image_proc = proc.get("image_processor") or _json_file(model_id, "preprocessor_config.json", revision) or {}
            size_config = image_proc.get("size") or {}
            image_size = int(size_config.get("height") or _first(vision.get("image_size", 448)))
            patch = _first(vision.get("patch_size", 14))
            ratio = float(config.get("downsample_ratio", 0.5))
            per_tile = int(proc.get("image_seq_length") or config.get("image_seq_length")
                           or (image_size // patch) ** 2 * ratio**2)
            return cls("native", arch, text.get("max_position_embeddings"), config.get("system_message") or None,
                       tokens_per_tile=per_tile, image_size=image_size,
                       min_tiles=int(image_proc.get("min_patches", 1)), max_tiles=int(image_proc.get("max_patches", 12)),
                       use_thumbnail=bool(image_proc.get("crop_to_patches", True)),
                       dynamic=bool(image_proc.get("crop_to_patches", True)))
        return cls("text", arch, config.get("max_position_embeddings"), config.get("system_message") or None)
