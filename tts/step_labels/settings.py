"""What decides a Monte Carlo label, and its defaults: InternVL's VisualPRM400K-v1.1 data script.

Sources (``OpenGVLab/InternVL`` at 2410d1d, ``internvl_chat/``):

* ``shell/internvl3.0/visualprm_data_construction/visualprm_mmpr_8b.sh`` (the v1.1 run): ``--temperature 1.0
  --num-return-sequences 4 --num-mc-sequences 16 --max-steps 16 --no-early-stop --prompt-version en_v2``;
* ``tools/reasoning_data_pipeline/visualprm_data_pieline.py`` (the script's own argparse defaults, for what the
  shell leaves alone): ``--top-k 50 --top-p 1.0 --max-new-tokens 4096``; its ``--max-steps`` default is 12 and
  ``--early-stop`` is on by default, both overridden by the v1.1 shell script;
* ``tools/reasoning_data_pipeline/visualprm_data_pipeline_postprocess.py``: ``--mc-threshold 0.0`` (a step is
  ``+`` iff its mc score is above it), also the paper's choice (Table 8).

The same sampling settings draw the rollouts (``build_responses`` uses one ``gen_config``) and the continuations.
One difference, kept on purpose: a continuation that loops is ended early (``stop_on_repetition``, as every ttscale
sampling); it has no final answer either way and would only cost its 4096 tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tts.errors import ConfigError
from tts.records import GRADING_RULES, GradingRules
from tts.sampling import SamplingParams

ROLLOUTS = 4
"""Rollouts per problem (``--num-return-sequences 4``)."""
CONTINUATIONS = 16
"""Continuations per step prefix, K (``--num-mc-sequences 16``)."""
MAX_STEPS = 16
"""Steps per rollout after the even merge (``--max-steps 16``; the paper's v1 data used 12)."""
THRESHOLD = 0.0
"""A step is ``+`` iff mc > this (``--mc-threshold 0.0``)."""
RULES = GRADING_RULES


@dataclass(frozen=True)
class MCSettings:
    """The settings an mc score depends on (bound in the label folder: a resume must use the same ones).

    Not here, because they do not change a stored score: the rollouts per problem (more can be labelled later)
    and the label threshold (labels are re-derived from the scores on every call).
    """

    continuations: int = CONTINUATIONS
    max_steps: int | None = MAX_STEPS
    early_stop: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int | None = 50
    max_new_tokens: int = 4096
    seed: int = 0
    stop_on_repetition: bool = True
    rules: GradingRules = "strict"

    def __post_init__(self) -> None:
        if self.continuations < 1:
            raise ConfigError("--continuations must be >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError("--max-steps must be >= 1")
        if self.temperature <= 0:
            raise ConfigError("--temperature must be > 0: Monte Carlo estimates need sampled continuations")
        if self.rules not in RULES:
            raise ConfigError(f"--rules must be one of {', '.join(RULES)}, not {self.rules!r}")
        self.params()  # the sampling checks (top_p in (0, 1], max_new_tokens >= 1 …)

    def params(self, n: int | None = None) -> SamplingParams:
        """Sampling for ``n`` draws per request (default K continuations)."""
        return SamplingParams(n=n or self.continuations, temperature=self.temperature, top_p=self.top_p,
                              top_k=self.top_k, max_new_tokens=self.max_new_tokens, seed=self.seed,
                              stop_on_repetition=self.stop_on_repetition)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["CONTINUATIONS", "MAX_STEPS", "ROLLOUTS", "THRESHOLD", "MCSettings"]
