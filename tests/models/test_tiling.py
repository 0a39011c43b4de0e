import numpy as np
import pytest
from PIL import Image

from tts.models.tiling import candidate_grids, closest_grid, dynamic_tiles, preprocess


@pytest.mark.parametrize("size,max_num,grid", [
    ((448, 448), 12, (1, 1)),
    ((896, 448), 12, (2, 1)),
    ((448, 1344), 12, (1, 3)),
    ((1000, 300), 6, (3, 1)),
    ((120, 90), 6, (3, 2)),
    ((120, 90), 12, (4, 3)),
    ((100, 1000), 6, (1, 6)),
])
def test_grid_choice(size, max_num, grid):
    assert closest_grid(*size, candidate_grids(1, max_num), 448) == grid


def test_tie_prefers_the_larger_grid_only_for_large_images():
    grids = candidate_grids(1, 12)
    assert closest_grid(448, 448, grids, 448) == (1, 1)       # small: stays at one tile
    assert closest_grid(2000, 2000, grids, 448) == (3, 3)     # large: the biggest square grid under 12


def test_tiles_are_row_major_with_a_thumbnail():
    img = Image.new("RGB", (896, 448))
    img.paste((255, 0, 0), (448, 0, 896, 448))  # right half red
    tiles = dynamic_tiles(img, image_size=448, max_num=6)
    assert len(tiles) == 3
    assert tiles[0].getpixel((10, 10)) == (0, 0, 0) and tiles[1].getpixel((10, 10)) == (255, 0, 0)
    assert len(dynamic_tiles(Image.new("RGB", (448, 448)), image_size=448)) == 1  # no thumbnail for one tile


def test_matches_transformers_port_of_internvl_tiling(tiny):
    """Same tiles and nearly the same pixels as GotOcr2ImageProcessor (InternVL's -hf image processor)."""
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(str(tiny.policy)).image_processor
    rng = np.random.default_rng(0)
    for w, h in [(120, 90), (300, 60), (56, 56), (40, 200)]:
        img = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        ours, counts = preprocess([img], image_size=56, max_num=6)
        theirs = proc([img], return_tensors="pt")
        assert counts == [int(theirs["num_patches"][0])]
        assert ours.shape == theirs["pixel_values"].shape
        assert float((ours - theirs["pixel_values"]).abs().mean()) < 0.05
