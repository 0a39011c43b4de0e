"""The policy prompt as every engine renders it: InternVL2.5's ChatML with InternVL's system message.

All engines send the model the same text the reference ``model.chat`` builds; they differ only in the
token that stands for an image (``<image>`` for the original remote-code checkpoints, which vLLM and
``model.chat`` expand into ``<img><IMG_CONTEXT>…</img>``; ``<IMG_CONTEXT>`` for transformers-native
``-hf`` checkpoints, whose processor expands it the same way).

Example:
    >>> from tts.engines.base import GenerationRequest
    >>> render_chatml(GenerationRequest("p", "<image>\\nHow many?", ("img",)), "SYS", image_token="<IMG_CONTEXT>")
    '<|im_start|>system\\nSYS<|im_end|>\\n<|im_start|>user\\n<IMG_CONTEXT>\\nHow many?<|im_end|>\\n<|im_start|>assistant\\n'
"""

from __future__ import annotations

from typing import Any

from tts.engines.base import GenerationRequest
from tts.models.internvl import chatml
from tts.prompts import IMAGE_PLACEHOLDER, prompt_text


def check_placeholders(request: GenerationRequest) -> None:
    """Raise ValueError unless the prompt has exactly one ``<image>`` per image."""
    count = request.prompt.count(IMAGE_PLACEHOLDER)
    if count != len(request.images):
        raise ValueError(f"{request.problem_id}: prompt has {count} <image> placeholders for "
                         f"{len(request.images)} images")


def render_chatml(request: GenerationRequest, system_message: str | None, *, image_token: str = IMAGE_PLACEHOLDER) -> str:
    """The full prompt text, ending where the assistant reply (or its pre-filled prefix) continues."""
    check_placeholders(request)
    user = request.prompt if image_token == IMAGE_PLACEHOLDER else request.prompt.replace(IMAGE_PLACEHOLDER, image_token)
    return chatml(system_message, user, request.assistant_prefix)


def read_config(model: str, revision: str | None = None) -> dict[str, Any]:
    """The checkpoint's ``config.json`` as a dict (hub id or local path), without loading the model."""
    from transformers import PretrainedConfig

    config, _ = PretrainedConfig.get_config_dict(model, revision=revision)
    return config


def default_system_message(config: dict[str, Any]) -> str:
    """The checkpoint config's ``system_message`` if it sets one, else InternVL's own (as ``model.chat``)."""
    return config.get("system_message") or prompt_text("internvl_system")
