"""The ``tts`` command line: a thin typer layer; every command calls one public Python function.

Each command lives in its own module that exposes ``register(app)``; heavy imports (torch, transformers,
vllm) happen inside the command functions so ``tts --help`` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from tts.errors import TTSError
from tts.logs import current_run_log

COMMAND_MODULES = (
    "tts.cli.demo",
    "tts.cli.bestofn",
    "tts.cli.search",
    "tts.cli.compare",
    "tts.cli.tiny",
    "tts.cli.run",
    "tts.cli.stages",
    "tts.cli.grade",
    "tts.cli.select",
    "tts.cli.report",
    "tts.cli.pairs",
    "tts.cli.merge",
    "tts.cli.problems",
    "tts.cli.critic_eval",
    "tts.cli.label",
    "tts.cli.doctor",
)


class Commands(TyperGroup):
    """The ``tts`` command group: every command runs under the error contract of :mod:`tts.errors`.

    A :class:`~tts.errors.TTSError` (the user can fix it) prints one line, ``error: …``, and exits with 2;
    any other exception is a bug: its traceback goes to the terminal and, where the command attached a run
    log, into ``run.log``, and the exit status is 1. Click's own usage errors (unknown option, missing
    argument) are left to click (exit 2 with the usage). Applied here rather than around ``main`` so that
    ``CliRunner`` tests see exactly what a terminal sees.
    """

    def invoke(self, ctx: Any) -> Any:
        from tts.cli.guard import cli_guard

        try:
            with cli_guard():  # SIGINT/SIGTERM: one line, exit 130/143; a full disk: one line, exit 1
                return super().invoke(ctx)
        except TTSError as exc:
            ctx.exit(_user_error(exc))
        except Exception as exc:  # noqa: BLE001 - the contract: everything that is not a TTSError is a bug
            if _is_click_control(exc):
                raise
            ctx.exit(_internal_error(exc))


def _is_click_control(exc: BaseException) -> bool:
    """Click's own flow: usage errors, ``typer.Exit``, ``Abort`` (click itself, or the copy typer vendors)."""
    return type(exc).__module__.split(".")[0] in ("click", "typer")


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="tts",
        help="ttscale: test-time scaling for multimodal math reasoning (problems → sample → score → grade → "
             "select → report).",
        cls=Commands,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(app)
    return app


def main() -> None:
    """The ``tts`` entry point (errors are handled by :class:`Commands`)."""
    build_app()()


def _user_error(exc: BaseException) -> int:
    log = current_run_log()
    if log is not None:
        logging.getLogger("tts.cli").error("%s", exc, exc_info=True)
    print(f"error: {exc}" + (f"\n(details: {log})" if log else ""), file=sys.stderr)
    return 2


def _internal_error(exc: BaseException) -> int:
    traceback.print_exc()
    log = current_run_log()
    if log is not None:
        logging.getLogger("tts.cli").error("unexpected error", exc_info=True)
    also = f"; also in {log}" if log else ""
    print(f"error: unexpected {type(exc).__name__}: {exc} (traceback above{also})", file=sys.stderr)
    return 1
