"""The config-only layout (used by the vLLM backend) agrees with the loaded adapters."""

import pytest
import torch
from PIL import Image

from tts.models.internvl import load_internvl
from tts.models.layout import ModelLayout


@pytest.fixture(scope="module", params=["native", "remote"])
def pair(tiny, request):
    path = str(tiny.critic if request.param == "native" else tiny.critic_remote)
    return ModelLayout.from_pretrained(path), load_internvl(path)


@pytest.mark.parametrize("size", [(120, 90), (300, 60), (56, 56), (40, 200), (1000, 1000)])
@pytest.mark.parametrize("max_tiles", [None, 1, 2, 6])
def test_tile_counts_match_the_adapter(pair, size, max_tiles):
    layout, vlm = pair
    _, tiles = vlm.pixel_values([Image.new("RGB", size)], max_tiles)
    assert layout.tiles(Image.new("RGB", size), max_tiles) == tiles[0]


def test_layout_facts_match_the_adapter(pair):
    layout, vlm = pair
    assert layout.style == vlm.style and layout.has_vision
    assert layout.tokens_per_tile == vlm.tokens_per_tile
    assert layout.max_tiles == vlm.default_max_tiles
    assert layout.max_length == vlm.max_length == 8192
    kwargs = layout.mm_processor_kwargs(4)
    assert kwargs == ({"max_dynamic_patch": 4} if vlm.style == "remote" else {"max_patches": 4})
    assert layout.mm_processor_kwargs(None) == {}


def test_a_text_only_checkpoint_has_no_vision():
    from tts.testing.text_prm_tiny import text_prm_checkpoints

    layout = ModelLayout.from_pretrained(str(text_prm_checkpoints().math_shepherd))
    assert layout.style == "text" and not layout.has_vision and layout.max_length == 4096


def test_embed_rows_scatters_each_rows_own_features(pair):
    _, vlm = pair
    img = vlm.image_token_id
    ids = torch.tensor([[1, img, img, 2], [img, img, 3, 4], [5, 6, 7, 8]])
    a, b = torch.randn(1, 2, vlm.language_model.get_input_embeddings().weight.shape[1]), None
    b = torch.randn_like(a)
    out = vlm.embed_rows(ids, [a, b, None])
    plain = vlm.language_model.get_input_embeddings()(ids)
    assert torch.equal(out[0, 1:3], a[0]) and torch.equal(out[1, :2], b[0])
    assert torch.equal(out[2], plain[2]) and torch.equal(out[0, 0], plain[0, 0])
    same = vlm.embed(ids[:2], a)
    assert torch.equal(vlm.embed_rows(ids[:2], [a, a]), same)
    with pytest.raises(ValueError, match="image-token slots"):
        vlm.embed_rows(ids, [a, None, None])
