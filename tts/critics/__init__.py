"""Critics (process and outcome reward models), registered by name and imported only when used.

Every critic has one interface — score a batch of (problem, rollouts) requests into step scores — so a
run can be scored by several critics, each into its own ``scores/<label>.jsonl``:

* ``visualprm`` — VisualPRM-8B / -v1_1 (both checkpoint styles; ``backend="transformers"`` or ``"vllm"``);
* ``visualprm-orm`` — the same checkpoint in outcome mode: the whole response as one step;
* ``math-shepherd`` — a text-only PRM with a step tag (``ки``) and ``+``/``-`` label tokens.

Critics store step scores only; response scores (mean, min, max, last, prod) are made offline by
:mod:`tts.strategies.scores`.

Example:
    >>> critic = load_critic("visualprm", "OpenGVLab/VisualPRM-8B-v1_1", backend="vllm")   # doctest: +SKIP
    >>> critic.score([ScoringRequest("p1", "<image>\\nWhat is x?", (image,), ((0, "x = 2"),))])  # doctest: +SKIP
"""

from tts.critics.base import Critic, ScoringRequest
from tts.critics.steps import split_steps
from tts.registry import Registry

CRITICS: Registry[type[Critic]] = Registry("critic")
CRITICS.register("visualprm", "tts.critics.visualprm:VisualPRM")
CRITICS.register("visualprm-orm", "tts.critics.visualprm:VisualORM")
CRITICS.register("math-shepherd", "tts.critics.math_shepherd:MathShepherd")


def load_critic(name: str, model: str, **options) -> Critic:
    """Instantiate critic ``name`` on ``model`` (hub id or local path)."""
    return CRITICS.get(name)(model, **options)


__all__ = ["CRITICS", "Critic", "ScoringRequest", "load_critic", "split_steps"]
