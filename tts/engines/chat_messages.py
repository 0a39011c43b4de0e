"""Chat-completions message pieces: images as data URLs, user content parts, token apportioning.

Example:
    >>> user_content("<image>\\nHow many?", ["data:x"])[1]
    {'type': 'text', 'text': 'How many?'}
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from tts.prompts import IMAGE_PLACEHOLDER


def image_data_url(image: Any, fmt: str = "png") -> str:
    """A PIL image as a base64 ``data:`` URL (PNG by default: lossless, as the other engines see it).

    >>> from PIL import Image
    >>> image_data_url(Image.new("RGB", (2, 2))).startswith("data:image/png;base64,")
    True
    """
    fmt = fmt.lower()
    buf = io.BytesIO()
    image.save(buf, format="JPEG" if fmt in ("jpg", "jpeg") else fmt.upper())
    mime = "jpeg" if fmt in ("jpg", "jpeg") else fmt
    return f"data:image/{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def user_content(prompt: str, image_urls: Sequence[str], placement: str = "parts") -> str | list[dict[str, Any]]:
    """The user message content: plain text without images, else image and text parts.

    ``parts`` puts an image part at each ``<image>`` (dropping the newline after it); ``inline`` keeps the
    ``<image>`` placeholders in one text part after the image parts, for servers that expand inline
    placeholders (vLLM serving original InternVL checkpoints: exact even for images inside the text).

    >>> user_content("<image>\\nHow many?", ["data:x"])
    [{'type': 'image_url', 'image_url': {'url': 'data:x'}}, {'type': 'text', 'text': 'How many?'}]
    >>> user_content("<image>\\nHow many?", ["data:x"], "inline")[1]
    {'type': 'text', 'text': '<image>\\nHow many?'}
    """
    if not image_urls:
        return prompt
    if placement == "inline":
        return [*({"type": "image_url", "image_url": {"url": u}} for u in image_urls), {"type": "text", "text": prompt}]
    if placement != "parts":
        raise ValueError(f"unknown image placement {placement!r}; use parts or inline")
    pieces = prompt.split(IMAGE_PLACEHOLDER)
    parts: list[dict[str, Any]] = []
    for i, piece in enumerate(pieces):
        if i > 0:
            parts.append({"type": "image_url", "image_url": {"url": image_urls[i - 1]}})
            piece = piece[1:] if piece.startswith("\n") else piece
        if piece:
            parts.append({"type": "text", "text": piece})
    return parts


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` that sum to ``total``.

    >>> apportion(10, [1, 1, 2])
    [3, 2, 5]
    """
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights, weight_sum = [1] * len(weights), len(weights)
    raw = [total * w / weight_sum for w in weights]
    out = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out

