"""Critics (process and outcome reward models), registered by name and imported only when used."""

from tts.critics.base import Critic, ScoringRequest
from tts.critics.steps import split_steps
from tts.registry import Registry

CRITICS: Registry[type[Critic]] = Registry("critic")
CRITICS.register("visualprm", "tts.critics.visualprm:VisualPRM")


def load_critic(name: str, model: str, **options) -> Critic:
    """Instantiate critic ``name`` on ``model`` (hub id or local path)."""
    return CRITICS.get(name)(model, **options)


__all__ = ["CRITICS", "Critic", "ScoringRequest", "load_critic", "split_steps"]
