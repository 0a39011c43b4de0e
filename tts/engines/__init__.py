"""Policy engines, registered by name and imported only when used.

Example:
    >>> from tts.engines import ENGINES
    >>> "transformers" in ENGINES
    True
"""

from tts.engines.base import Completion, Engine, GenerationRequest, SamplingParams
from tts.registry import Registry

ENGINES: Registry[type[Engine]] = Registry("engine")
ENGINES.register("transformers", "tts.engines.transformers_engine:TransformersEngine")


def load_engine(name: str, model: str, **options) -> Engine:
    """Instantiate the engine ``name`` for ``model`` (hub id or local path)."""
    return ENGINES.get(name)(model, **options)


__all__ = ["ENGINES", "Completion", "Engine", "GenerationRequest", "SamplingParams", "load_engine"]
