"""The options each model is loaded with in a pipeline: the config's engine and critic options, with the
run's device and dtype where the backend takes them.

Why a module of its own: the preflight checks these exact options before anything loads, and the
pipelines load with them; kept beside the pipelines, preflight and pipelines imported each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tts.config import RunConfig


def engine_kwargs(config: RunConfig) -> dict[str, Any]:
    models = config.models
    kwargs = dict(models.engine_options)
    if models.engine == "transformers":
        kwargs.setdefault("device", models.device)
        kwargs.setdefault("dtype", models.dtype)
    return kwargs


def critic_kwargs(config: RunConfig) -> dict[str, Any]:
    models = config.models
    return {"label": models.critic_label, "device": models.device, "dtype": models.dtype, **models.critic_options}


__all__ = ["critic_kwargs", "engine_kwargs"]
