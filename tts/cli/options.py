"""Option parsing shared by commands: ``key=value`` option lists, comma lists, and renamed flags.

One name per concept across all commands (``--critic`` is always a model, ``--critic-label`` the name of a
scores file, ``--prompt-set`` the prompt set, ``--rules`` the grading rules). A flag renamed to reach that
is still accepted for one release under its old spelling: it is not shown in ``--help`` and, when used,
prints one deprecation line to stderr (:func:`renamed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import typer
from typer.core import TyperCommand


def key_values(items: Sequence[str] | None) -> dict[str, Any]:
    """``["tensor_parallel_size=4", "max_model_len=16384"]`` → a dict with YAML-typed values."""
    from tts.config import parse_override

    return dict(parse_override(item) for item in items or ())


def split_list(text: str | None) -> list[str] | None:
    """``"a, b,c"`` → ``["a", "b", "c"]``; ``None`` or an empty string → ``None`` (no filter)."""
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def rename_args(args: Sequence[str], old_to_new: Mapping[str, str], command: str) -> list[str]:
    """``args`` with old flag spellings replaced by the new ones (``--old v``, ``--old=v``), one deprecation
    line on stderr per old spelling used. Arguments after ``--`` are left alone.

    >>> rename_args(["run", "--label=x", "--", "--label"], {"--label": "--critic-label"}, "score")
    ['run', '--critic-label=x', '--', '--label']
    """
    out: list[str] = []
    used: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            out += [arg, *rest]
            break
        flag, eq, value = arg.partition("=")
        if flag in old_to_new:
            used.append(flag)
            arg = old_to_new[flag] + eq + value
        out.append(arg)
    for flag in dict.fromkeys(used):
        typer.echo(f"warning: tts {command} {flag} is deprecated, use {old_to_new[flag]} (the old spelling goes "
                   "in the next release)", err=True)
    return out


def renamed(old_to_new: Mapping[str, str]) -> type[TyperCommand]:
    """A command class that accepts the old spellings in ``old_to_new`` as hidden, deprecated aliases.

    Example: ``app.command("score", cls=renamed({"--label": "--critic-label"}))(score)``.
    """

    class Renamed(TyperCommand):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            return super().parse_args(ctx, rename_args(args, old_to_new, self.name or ""))

    return Renamed
