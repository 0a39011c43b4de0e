"""The error contract: :class:`TTSError` is a user-facing error, anything else is a bug.

A ``TTSError`` says what is wrong with what the user asked for (a typo in a recipe key, an unknown name,
settings that conflict with a run directory, a corrupt file) and how to fix it, in one message. The CLI
prints it as one line (``error: …``, exit status 2). Every other exception is an internal failure: the CLI
prints its traceback (and writes it to the run's ``run.log`` when there is a run) and exits with 1.

Each class also keeps the built-in base its callers caught before the contract existed (``ValueError``,
``KeyError``, ``RuntimeError`` …), so ``except ValueError`` around a config call still works.

Example:
    >>> issubclass(ConfigError, ValueError) and issubclass(UnknownName, KeyError)
    True
    >>> str(UnknownName("unknown engine 'jsn'"))   # not KeyError's quoted repr
    "unknown engine 'jsn'"
"""

from __future__ import annotations


class TTSError(Exception):
    """A user-facing error: its message alone (no traceback) tells the user what to change."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class ConfigError(TTSError, ValueError):
    """A recipe, ``--set`` override, option or setting is malformed (unknown key, wrong type, bad value)."""


class UnknownName(TTSError, KeyError):
    """A name looked up in a registry (engine, critic, strategy, benchmark, prompt …) is not registered."""


class RecipeNotFound(TTSError, FileNotFoundError):
    """No recipe file of that path or bundled name."""


__all__ = ["ConfigError", "RecipeNotFound", "TTSError", "UnknownName"]
