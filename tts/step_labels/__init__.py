"""Monte Carlo step labels for training a process reward model (``tts label``; VisualPRM400K's recipe).

For every step prefix of a rollout, the policy continues the prefix K times; ``mc = correct / K`` estimates
how likely a solution that has come this far still ends right, and a step is labelled ``+`` iff ``mc > 0``
(VisualPRM's choice). Sources and defaults: ``shared/reference/visualprm.md`` §4 and
:mod:`tts.step_labels.settings` (InternVL's v1.1 data script: 4 rollouts, 16 continuations, temperature 1.0,
top-k 50, up to 16 steps, no early stop).

* :func:`label_run` — the whole job over a run directory (resumable label folder, training files, report);
* :mod:`tts.step_labels.plan` — which rollouts, their steps and prefixes, seeds, the cost estimate;
* :mod:`tts.step_labels.policy` — the continuing model, engine and prompt; fresh rollouts;
* :mod:`tts.step_labels.generate` — continuing prefixes with the engine, grading, the journal;
* :mod:`tts.step_labels.formats` — ``labels.jsonl``, VisualPRM400K conversations, TRL stepwise rows;
* :mod:`tts.step_labels.store` — the label folder.

(:mod:`tts.labels` is unrelated: it picks which critic's scores a command reads.)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Estimate": "tts.step_labels.plan", "LabelError": "tts.step_labels.store", "LabelFolder": "tts.step_labels.store",
    "LabelResult": "tts.step_labels.api", "MCSettings": "tts.step_labels.settings", "label_run": "tts.step_labels.api",
    "load_trl_prm": "tts.step_labels.formats",
}


def __getattr__(name: str) -> Any:
    """Imported on first use, so the command line can read the defaults without loading the engines' modules."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tts.step_labels' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
