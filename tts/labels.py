"""Which critic's scores a command reads: the ``--critic-label`` asked for, else the run's only one.

A run can hold the scores of several critics (``scores/<label>.jsonl``, one file per ``tts score
--critic-label``). ``select``, ``report`` and ``pairs`` read one of them; with several and none named they
refuse to guess, naming the labels and the flag to choose with.

Example:
    >>> import tempfile
    >>> from tts.rundir import RunDir
    >>> run = RunDir.open(tempfile.mkdtemp() + "/run")
    >>> pick_critic(run, None) is None   # no scores yet: strategies that need none still run
    True
"""

from __future__ import annotations

from typing import Literal

from tts.errors import ConfigError, UnknownName
from tts.rundir import RunDir, RunDirError


def pick_critic(run: RunDir, label: str | None, *, required: bool = False,
                several: Literal["error", "none"] = "error") -> str | None:
    """The critic label to read.

    ``label`` given: it, if the run has its scores (else :class:`~tts.errors.UnknownName`). Otherwise the
    run's only label; with no scores, ``None`` (an error when ``required``); with several, an error
    (``several="none"``: ``None``, for commands that use scores only when there is no doubt whose).
    """
    available = run.critics()
    if label is not None:
        if label not in available:
            raise UnknownName(f"{run.path} has no scores from critic {label!r}; it has: "
                              f"{', '.join(available) or 'none'} (choose with --critic-label)")
        return label
    if len(available) == 1:
        return available[0]
    if not available:
        if required:
            raise RunDirError(f"{run.path} has no critic scores (scores/*.jsonl); score the rollouts first "
                              "(tts score RUN --critic MODEL)")
        return None
    if several == "none" and not required:
        return None
    raise ConfigError(f"{run.path} has scores from several critics ({', '.join(available)}); choose one with "
                      "--critic-label")


__all__ = ["pick_critic"]
