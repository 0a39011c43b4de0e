"""Remote-code checkpoints whose model class never calls ``post_init()`` (the hub's InternVL3/3.5 and
VisualPRM files) load on every supported transformers, with their tied LM head intact.

This module also runs in the lowest-transformers environment (``make test-tf-lowest``).
"""

import pytest
import torch
import transformers
from packaging.version import Version

from tts.models.internvl import load_internvl
from tts.models.remote_code import ensure_post_init, post_init_ran, remote_model_class

TRANSFORMERS_5 = Version(transformers.__version__) >= Version("5")


def test_the_tiny_variant_reproduces_the_upstream_failure_without_help(tiny, tmp_path):
    """Plain ``AutoModel`` on the variant fails under transformers 5 exactly as users report; 4.57 loads it."""
    import shutil
    import uuid

    from transformers import AutoModel

    # A directory of its own name gets a dynamic module of its own: a class no earlier load has guarded.
    path = str(shutil.copytree(tiny.critic_no_post_init, tmp_path / f"unguarded-{uuid.uuid4().hex[:12]}"))
    cls = remote_model_class(path)
    assert "_tts_post_init_guard" not in vars(cls)
    assert cls.__name__ == "TinyInternVLChatModelWithoutPostInit"
    if TRANSFORMERS_5:
        with pytest.raises(AttributeError, match="all_tied_weights_keys"):
            AutoModel.from_pretrained(path, trust_remote_code=True)
    else:
        assert AutoModel.from_pretrained(path, trust_remote_code=True) is not None


@pytest.mark.parametrize("which", ["critic", "policy"])
def test_a_class_without_post_init_loads_with_the_same_function(tiny, which):
    good = load_internvl(str(getattr(tiny, f"{which}_remote")), device="cpu")
    vlm = load_internvl(str(getattr(tiny, f"{which}_no_post_init")), device="cpu")
    assert vlm.info()["architecture"] == "TinyInternVLChatModelWithoutPostInit"
    assert post_init_ran(vlm.model)
    lm = vlm.model.language_model
    assert lm.lm_head.weight.data_ptr() == lm.model.embed_tokens.weight.data_ptr()  # the tie survived
    ids = torch.tensor([[5, 6, 7, 8, 9, 10]])
    with torch.no_grad():
        assert torch.equal(lm(input_ids=ids).logits, good.model.language_model(input_ids=ids).logits)
        pixels = torch.rand(2, 3, 56, 56)
        assert torch.equal(vlm.features(pixels), good.features(pixels))


def test_the_guard_runs_post_init_once_and_only_where_it_is_missing(tiny, monkeypatch):
    from transformers import AutoConfig, PreTrainedModel

    config = AutoConfig.from_pretrained(str(tiny.critic_no_post_init), trust_remote_code=True)
    calls = []
    original = PreTrainedModel.post_init

    def counting(self):
        calls.append(type(self).__name__)
        return original(self)

    monkeypatch.setattr(PreTrainedModel, "post_init", counting)
    bad = remote_model_class(str(tiny.critic_no_post_init))
    assert ensure_post_init(bad) is ensure_post_init(bad)  # idempotent: one wrapper
    calls.clear()
    model = bad(config)
    assert post_init_ran(model) and calls.count(bad.__name__) == 1

    good = remote_model_class(str(tiny.critic_remote))
    ensure_post_init(good)
    calls.clear()
    good(config)
    assert calls.count(good.__name__) == 1  # its own call; the guard adds none
