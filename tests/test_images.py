"""Image files of a run: untrusted bytes become BadImage, and a crash's leftover is rewritten."""

import io
import struct

import pytest
from PIL import Image

from tts.benchmarks.hub import BadRow, store_image
from tts.images import BadImage, ImageStore, decode, load_rgb


def _png(color="red", size=(6, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def bomb_gif() -> bytes:
    """A 40-byte GIF whose header claims 60000 x 60000 pixels (Pillow's DecompressionBombError)."""
    header = b"GIF89a" + struct.pack("<HH", 60000, 60000) + b"\x00\x00\x00"
    descriptor = b"," + struct.pack("<HHHH", 0, 0, 60000, 60000) + b"\x00"
    return header + descriptor + b"\x02\x02\x44\x01\x00;"


@pytest.mark.parametrize("data,why", [
    (b"", "UnidentifiedImageError"),
    (b"not an image at all", "UnidentifiedImageError"),
    (_png()[:40], "cannot decode"),
    (bomb_gif(), "DecompressionBomb"),
])
def test_corrupt_bytes_are_a_bad_image(data, why):
    with pytest.raises(BadImage, match=why):
        decode(data)


def test_a_decompression_bomb_row_is_skipped_not_fatal(tmp_path):
    with pytest.raises(BadRow, match="undecodable image row 3"):
        store_image(ImageStore(tmp_path), bomb_gif(), "row 3")


def test_store_rewrites_a_file_a_crash_left_short(tmp_path):
    store = ImageStore(tmp_path)
    data = _png()
    ref = store.put(data)
    (tmp_path / ref).write_bytes(b"")  # the rename reached the disk, the bytes did not
    assert store.put(data) == ref
    assert (tmp_path / ref).read_bytes() == data
    assert load_rgb(tmp_path / ref).size == (6, 4)
    assert not [p for p in (tmp_path / "images").iterdir() if p.name.startswith(".")]  # no temp files left
