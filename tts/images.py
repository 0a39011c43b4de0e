"""Image files of a run: stored once, content-addressed, validated on the way in, RGB on the way out.

Records never inline images (a MathVista run would be gigabytes of base64 JSON); a Problem lists paths
relative to the run directory. :class:`ImageStore` keeps the original encoded bytes when it has them
(no re-encoding, so the model sees exactly the dataset's pixels) and names files by their hash, which also
deduplicates images shared by several questions (MathVerse versions, DynaMath variants).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tts.errors import TTSError
from tts.jsonl import write_bytes_atomic

if TYPE_CHECKING:  # pillow is light, but keep `import tts` free of it anyway
    from PIL import Image as PILImage

_FORMAT_EXT = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "BMP": "bmp", "WEBP": "webp", "TIFF": "tiff"}


class BadImage(TTSError, ValueError):
    """An image could not be decoded."""


def decode(data: bytes) -> PILImage.Image:
    """Decode and fully load image bytes; raise :class:`BadImage` with the reason if they are corrupt.

    Dataset files are untrusted: Pillow's decoders raise many exception types on corrupt input
    (``OSError``, ``SyntaxError``, ``struct.error``, ``DecompressionBombError`` for a header claiming
    billions of pixels …), so every one of them becomes :class:`BadImage` and the row is skipped.
    """
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise BadImage(f"cannot decode image ({len(data)} bytes): {type(exc).__name__}: {exc}") from exc
    return img


def to_rgb(img: PILImage.Image) -> PILImage.Image:
    """RGB as InternVL's loader makes it (``convert('RGB')``); palette images with transparency go via RGBA."""
    if img.mode == "RGB":
        return img
    try:
        if img.mode == "P" and "transparency" in img.info:
            img = img.convert("RGBA")
        return img.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - a mode Pillow cannot convert is a bad image, not a crash
        raise BadImage(f"cannot convert a {img.mode} image to RGB: {type(exc).__name__}: {exc}") from exc


def load_rgb(path: str | os.PathLike[str]) -> PILImage.Image:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadImage(f"cannot read image {path}: {exc}") from exc
    return to_rgb(decode(data))


class ImageStore:
    """A folder of content-addressed image files.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> store = ImageStore(tempfile.mkdtemp())
        >>> ref = store.put(Image.new("RGB", (4, 4), "red"))
        >>> ref.startswith("images/") and ref.endswith(".png")
        True
    """

    def __init__(self, root: str | os.PathLike[str], prefix: str = "images") -> None:
        self.root = Path(root)
        self.prefix = prefix
        self.dir = self.root / prefix if prefix else self.root

    def put(self, image: PILImage.Image | bytes) -> str:
        """Store an image (PIL image or encoded bytes, validated) and return its reference."""
        if isinstance(image, bytes | bytearray):
            data = bytes(image)
            fmt = decode(data).format or "PNG"
        else:
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            data, fmt = buf.getvalue(), "PNG"
        digest = hashlib.sha256(data).hexdigest()[:24]
        name = f"{digest}.{_FORMAT_EXT.get(fmt.upper(), 'img')}"
        path = self.dir / name
        if not path.is_file() or path.stat().st_size != len(data):  # a short file is a crash's leftover
            write_bytes_atomic(path, data)
        return f"{self.prefix}/{name}" if self.prefix else name
