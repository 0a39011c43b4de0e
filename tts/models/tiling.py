"""InternVL's dynamic tiling for the original (remote-code) checkpoints.

The original checkpoints ship no image processor: their model card and VLMEvalKit cut each image into
square tiles (448 px for InternVL2.5/3) on the grid whose aspect ratio is closest to the image's, using at
most ``max_num`` tiles, and add a thumbnail of the whole image when there is more than one tile. Each tile
becomes ``num_image_token`` (256) ``<IMG_CONTEXT>`` tokens. Grid choice, resize and normalisation follow
that procedure exactly so the tokens match what the model was evaluated with.

Example:
    >>> from PIL import Image
    >>> tiles = dynamic_tiles(Image.new("RGB", (896, 448)), image_size=448, max_num=6)
    >>> len(tiles)   # a 2x1 grid plus the thumbnail
    3
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image as PILImage

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def candidate_grids(min_num: int, max_num: int) -> list[tuple[int, int]]:
    """Every (columns, rows) grid with min_num ≤ tiles ≤ max_num, fewest tiles first."""
    grids = {(i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1)
             if min_num <= i * j <= max_num}
    return sorted(grids, key=lambda g: g[0] * g[1])


def closest_grid(width: int, height: int, grids: list[tuple[int, int]], image_size: int) -> tuple[int, int]:
    """The grid whose aspect ratio is nearest the image's; on a tie, the larger grid if the image is big enough."""
    aspect = width / height
    best, best_diff = (1, 1), float("inf")
    for cols, rows in grids:
        diff = abs(aspect - cols / rows)
        if diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and width * height > 0.5 * image_size * image_size * cols * rows:
            best = (cols, rows)
    return best


def dynamic_tiles(image: PILImage.Image, *, image_size: int = 448, min_num: int = 1, max_num: int = 12,
                  use_thumbnail: bool = True) -> list[PILImage.Image]:
    """Cut ``image`` into tiles (row-major) plus an optional thumbnail."""
    width, height = image.size
    cols, rows = closest_grid(width, height, candidate_grids(min_num, max_num), image_size)
    resized = image.resize((image_size * cols, image_size * rows))  # PIL's default (bicubic), as the reference
    tiles = []
    for idx in range(cols * rows):
        x, y = (idx % cols) * image_size, (idx // cols) * image_size
        tiles.append(resized.crop((x, y, x + image_size, y + image_size)))
    if use_thumbnail and len(tiles) != 1:
        tiles.append(image.resize((image_size, image_size)))
    return tiles


def tiles_to_tensor(tiles: list[PILImage.Image], image_size: int) -> Any:
    """Stack tiles into a normalised float tensor (tiles, 3, size, size)."""
    import numpy as np
    import torch

    arrays = []
    for tile in tiles:
        if tile.size != (image_size, image_size):
            tile = tile.resize((image_size, image_size))
        arrays.append(np.asarray(tile.convert("RGB"), dtype=np.float32) / 255.0)
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (batch - mean) / std


def preprocess(images: list[PILImage.Image], *, image_size: int = 448, max_num: int = 12, min_num: int = 1,
               use_thumbnail: bool = True, dynamic: bool = True) -> tuple[Any, list[int]]:
    """Pixel values of all images concatenated, and the tile count of each image."""
    import torch

    tensors, counts = [], []
    for image in images:
        tiles = (dynamic_tiles(image, image_size=image_size, min_num=min_num, max_num=max_num, use_thumbnail=use_thumbnail)
                 if dynamic else [image])
        tensors.append(tiles_to_tensor(tiles, image_size))
        counts.append(len(tiles))
    return torch.cat(tensors), counts
