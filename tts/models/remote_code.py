"""Loading original InternVL-Chat (remote-code) checkpoints on every transformers the project supports.

Why: the InternVL-Chat model files on the hub (InternVL3, InternVL3.5, VisualPRM, ...) were written before
InternVL's own fix eecca2a (#1100, 2025-08-26): their model class's ``__init__`` never calls
``self.post_init()``. transformers 5 computes the model's tied-weight map (``all_tied_weights_keys``) and its
parallel plans in ``post_init`` and ``from_pretrained`` reads them (``_move_missing_keys_from_meta_to_device``),
so such a checkpoint fails to load with ``AttributeError: ... no attribute 'all_tied_weights_keys'``. Under
transformers 4.57 the same class loads, with ``_tp_plan`` unset.

What we do: resolve the checkpoint's ``AutoModel`` class exactly as ``AutoModel`` does and wrap its
``__init__`` so that, when construction ends without ``post_init`` having run, it runs then: the upstream
fix, applied at run time, only to a class that needs it (a class that calls ``post_init`` is left as is;
the wrapper is installed once per class). Setting ``PreTrainedModel.all_tied_weights_keys = {}`` (the
workaround seen in third-party scripts) would instead lose the tie of a tied LM head (InternVL3-1B/2B tie
their word embeddings): the head would be initialised at random.

Example:
    >>> model = load_remote_model("OpenGVLab/InternVL3_5-8B", dtype=torch.bfloat16)   # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

_GUARD = "_tts_post_init_guard"


def post_init_ran(model: Any) -> bool:
    """Whether ``PreTrainedModel.post_init`` ran on ``model``: it sets the instance's ``_tp_plan`` on every
    supported transformers (4.57: the plans; 5.x: ``init_parallel_plans``); ``__init__`` alone does not."""
    return "_tp_plan" in vars(model)


def ensure_post_init(cls: type) -> type:
    """Make ``cls(config)`` end with ``post_init()`` when its own ``__init__`` skipped it (idempotent).

    Only the outermost ``__init__`` acts: a subclass that overrides ``__init__`` and calls ours through
    ``super()`` is left to finish building first (its own wrapper, if it is the loaded class, runs after).
    """
    if cls.__dict__.get(_GUARD):
        return cls
    original = cls.__init__  # type: ignore[misc]

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if type(self).__init__ is __init__ and not post_init_ran(self):  # the outermost __init__
            log.debug("%s.__init__ did not call post_init(); calling it", type(self).__name__)
            self.post_init()

    cls.__init__ = __init__  # type: ignore[misc]
    setattr(cls, _GUARD, True)
    return cls


def remote_model_class(model_id: str, revision: str | None = None) -> type:
    """The class ``AutoModel.from_pretrained(model_id, trust_remote_code=True)`` would build."""
    from transformers import AutoConfig
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    config = AutoConfig.from_pretrained(model_id, revision=revision, trust_remote_code=True)
    ref = (getattr(config, "auto_map", None) or {}).get("AutoModel")
    if not ref:
        raise ValueError(f"{model_id}: config.json has no auto_map.AutoModel; it is not a remote-code checkpoint")
    return get_class_from_dynamic_module(ref, model_id, revision=revision)


def load_remote_model(model_id: str, *, revision: str | None = None, **kwargs: Any) -> Any:
    """``AutoModel.from_pretrained(model_id, trust_remote_code=True, **kwargs)``, also for model classes that
    never call ``post_init()`` (see the module docstring)."""
    from transformers import AutoModel

    ensure_post_init(remote_model_class(model_id, revision))
    # The module is cached by file hash, so AutoModel resolves the very class object wrapped above.
    return AutoModel.from_pretrained(model_id, revision=revision, trust_remote_code=True, **kwargs)
